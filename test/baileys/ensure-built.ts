import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : fs.statSync(full).mtimeMs);
  }
  return newest;
}

/**
 * Tests that start `node bin/messageapi.js` run the built code. `npm test` builds first; a direct
 * vitest run builds here when dist/ is older than src/ (so no test ever runs a stale build).
 */
export function ensureBuilt(root: string): void {
  const stamp = path.join(root, 'dist/.tsbuildinfo');
  if (fs.existsSync(stamp) && fs.existsSync(path.join(root, 'dist/cli/main.js')) && fs.statSync(stamp).mtimeMs >= newestMtime(path.join(root, 'src'))) return;
  try {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'pipe' });
  } catch (error) {
    // Type errors elsewhere still emit JavaScript; only a missing entry point is fatal.
    if (!fs.existsSync(path.join(root, 'dist/cli/main.js'))) throw error;
  }
}
