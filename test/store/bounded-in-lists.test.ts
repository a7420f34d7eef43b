import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/store.js';
import { testDialects } from '../helpers/dialects.js';

// The SQLite connection keeps every statement it prepared (sqlite-connection.ts), so `in` lists
// are padded to a power of two: a few SQL texts per query shape instead of one per list length.
if (testDialects().includes('sqlite')) describe('bounded in-lists (sqlite)', () => {
  let dir: string;
  let store: Store;
  const keys = ['a', 'b', 'c', 'd', 'e'];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'messageapi-inlists-'));
    store = Store.open(`sqlite:${path.join(dir, 'db.sqlite')}`);
    await store.migrate();
    await store.write((tx) =>
      tx.insertInto('login_attempts').values(keys.map((key) => ({ key, failures: 0, last_failure_at: 0, blocked_until: 0 }))).execute(),
    );
  });
  afterAll(async () => {
    await store?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('lists of 1 to 1,000 values give 11 SQL texts, not 1,000', () => {
    const texts = new Set<string>();
    for (let n = 1; n <= 1000; n += 1) {
      const values = Array.from({ length: n }, (_, i) => `k${i}`);
      texts.add(store.db.selectFrom('login_attempts').selectAll().where('key', 'in', values).compile().sql);
    }
    expect(texts.size).toBe(11);
  });

  it('padding changes no answer, for in and not in', async () => {
    const inRows = await store.db.selectFrom('login_attempts').select('key').where('key', 'in', ['a', 'c', 'e']).orderBy('key').execute();
    expect(inRows.map((r) => r.key)).toEqual(['a', 'c', 'e']);
    const notInRows = await store.db.selectFrom('login_attempts').select('key').where('key', 'not in', ['a', 'c', 'e']).orderBy('key').execute();
    expect(notInRows.map((r) => r.key)).toEqual(['b', 'd']);
    const updated = await store.write((tx) =>
      tx.updateTable('login_attempts').set({ failures: 1 }).where('key', 'in', ['b', 'c', 'd']).executeTakeFirst(),
    );
    expect(Number(updated.numUpdatedRows)).toBe(3);
  });
});
