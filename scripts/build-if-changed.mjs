#!/usr/bin/env node
// `npm start`'s build step: runs `npm run build` only when a source changed since the last build, so a
// restart takes a second instead of a full tsc + vite run. The sources' state (newest mtime, file
// count, total size) is stamped into dist/ after a successful build; any edit, added or deleted file
// changes it. A stamp from before the build is kept, so an edit made during the build is seen next time.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SOURCES = ['src', 'web', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json'];
const STAMP = path.join(root, 'dist', '.sources-stamp');

function visit(entry, state) {
  const stat = statSync(entry, { throwIfNoEntry: false });
  if (!stat) return;
  if (stat.isDirectory()) {
    for (const name of readdirSync(entry)) if (name !== 'node_modules' && !name.startsWith('.')) visit(path.join(entry, name), state);
    return;
  }
  state.newest = Math.max(state.newest, stat.mtimeMs);
  state.files += 1;
  state.bytes += stat.size;
}

function sourcesState() {
  const state = { newest: 0, files: 0, bytes: 0 };
  for (const source of SOURCES) visit(path.join(root, source), state);
  return JSON.stringify(state);
}

const before = sourcesState();
const stamped = existsSync(STAMP) ? readFileSync(STAMP, 'utf8') : '';
const built = existsSync(path.join(root, 'dist', 'cli', 'main.js')) && existsSync(path.join(root, 'dist', 'web', 'index.html'));
if (built && stamped === before && process.env.FORCE_BUILD !== '1') process.exit(0);

console.error(built ? 'Sources changed since the last build: building…' : 'First start: building (tsc + vite, under a minute)…');
const result = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
if (result.status !== 0) process.exit(result.status ?? 1);
writeFileSync(STAMP, before);
