import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { refuseNarrowedDialectsInCi } from './dialect-coverage.js';
import { testDialects } from './dialects.js';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string | null;
  }
}


/**
 * PostgreSQL for the suite: TEST_DATABASE_URL when set (CI points it at the machine's server),
 * otherwise a throwaway server started here, so `npm test` passes on a fresh machine too.
 */
export default async function setup(project: TestProject) {
  refuseNarrowedDialectsInCi(testDialects());
  if (!testDialects().includes('postgres')) {
    project.provide('postgresUrl', null);
    return;
  }
  if (process.env.TEST_DATABASE_URL) {
    project.provide('postgresUrl', process.env.TEST_DATABASE_URL);
    return;
  }
  // In a process of its own: see throwaway-postgres.mjs for why it must not load in this one.
  const child = spawn(process.execPath, [path.join(path.dirname(fileURLToPath(import.meta.url)), 'throwaway-postgres.mjs')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve((JSON.parse(line) as { url: string }).url);
    });
    child.once('exit', (code) => reject(new Error(`the throwaway PostgreSQL did not start (exit ${code})`)));
  });
  project.provide('postgresUrl', url);
  return async () => {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };
}
