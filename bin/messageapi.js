#!/usr/bin/env node
// The operator CLI. It runs the compiled code in dist/; `npm run build` makes it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  console.error('messageapi is not built yet: run `npm run build` (or `npm start`) first.');
  process.exit(1);
}
await import(entry.href);
