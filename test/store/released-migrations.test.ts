import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import released from './released-migrations.json' with { type: 'json' };

/**
 * A released migration never changes: a database that already ran it never runs it again, so an
 * edit reaches only new databases (as happened to 003 and 005; 007 repairs those). Change the
 * schema with a new migration instead. A new migration file is listed here with its hash when it is
 * added, and from then on it is released.
 */
const folder = path.resolve(import.meta.dirname, '../../src/store/migrations');
// Line endings as checked out (core.autocrlf) are not an edit.
const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(path.join(folder, file), 'utf8').replace(/\r\n/g, '\n')).digest('hex');

describe('released migrations', () => {
  const files = fs.readdirSync(folder).filter((f) => f.endsWith('.ts') && f !== 'index.ts').sort();

  it.each(Object.entries(released as Record<string, string>))('%s is exactly as released', (file, hash) => {
    expect(fs.existsSync(path.join(folder, file)), `${file} was released and must stay`).toBe(true);
    expect(sha256(file), `${file} was edited after its release: add a new migration instead`).toBe(hash);
  });

  it('lists every migration file', () => {
    expect(files).toEqual(Object.keys(released).sort());
  });
});
