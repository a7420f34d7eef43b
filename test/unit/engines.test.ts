import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const semver = createRequire(import.meta.url)('semver') as {
  subset(range: string, superset: string): boolean;
  satisfies(version: string, range: string): boolean;
};

interface LockEntry { version?: string; dev?: boolean; cpu?: string[]; engines?: { node?: string } | string[] }

// Platform packages npm installs only on other CPUs (sharp's for 32-bit Windows declares ^20.9.0).
const OUR_CPUS = ['x64', 'arm64'];

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };

describe('supported Node versions', () => {
  it('every package installed to run the server (not the dev ones) on x64 or arm64 accepts every Node version package.json claims', () => {
    const refused: string[] = [];
    for (const [where, entry] of Object.entries(lock.packages)) {
      if (!where.startsWith('node_modules/') || entry.dev) continue;
      if (entry.cpu && !entry.cpu.some((cpu) => OUR_CPUS.includes(cpu))) continue;
      const node = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
      if (node && !semver.subset(pkg.engines.node, node)) refused.push(`${where.replace(/^.*node_modules\//, '')}@${entry.version} wants node ${node}`);
    }
    expect(refused, `package.json claims node ${pkg.engines.node}`).toEqual([]);
  });

  it('the Node running the suite is one package.json claims', () => {
    expect(semver.satisfies(process.versions.node, pkg.engines.node), `${process.version} vs ${pkg.engines.node}`).toBe(true);
  });
});
