import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.js';
import { jsonRows } from '../../src/store/json-rows.js';
import { openTestStore, testDialects } from '../helpers/databases.js';

// Rows handed to the database as one JSON parameter (the webhook outcomes' batch write) come back
// with the same values and types on both databases, whatever the text holds.
for (const dialect of testDialects()) {
  describe(`json rows (${dialect})`, () => {
    let store: Store;
    let close: () => Promise<void>;
    beforeAll(async () => {
      ({ store, close } = await openTestStore(dialect));
    });
    afterAll(async () => close?.());

    const columns = { id: 'text', n: 'bigint', small: 'integer', note: 'text' } as const;

    it('gives back each row with its values and nulls, in order', async () => {
      const rows = [
        { id: 'a', n: 1_764_000_000_123, small: 200, note: 'plain' },
        { id: 'b', n: null, small: null, note: null },
        { id: 'c', n: 0, small: -1, note: 'quote \' " back\\slash, emoji 😀, accents é, newline\n' },
      ];
      const x = jsonRows(store.db, columns, rows);
      const { rows: back } = await sql<{ id: string; n: number | null; small: number | null; note: string | null }>`select id, n, small, note from ${x}`.execute(store.db);
      expect(back.map((r) => ({ ...r, n: r.n === null ? null : Number(r.n) }))).toEqual(rows);
    });

    it('updates many rows in one statement', async () => {
      await store.write((tx) => tx.insertInto('login_attempts').values(['k1', 'k2', 'k3'].map((key) => ({ key, failures: 0, last_failure_at: 0, blocked_until: 0 }))).execute());
      await store.write((tx) => {
        const x = jsonRows(tx, { key: 'text', failures: 'integer' }, [{ key: 'k1', failures: 3 }, { key: 'k3', failures: 5 }]);
        return sql`update login_attempts set failures = x.failures from ${x} where login_attempts.key = x.key`.execute(tx);
      });
      const after = await store.db.selectFrom('login_attempts').select(['key', 'failures']).orderBy('key').execute();
      expect(after.map((r) => [r.key, Number(r.failures)])).toEqual([['k1', 3], ['k2', 0], ['k3', 5]]);
    });

    it('refuses a column name that is not a plain identifier', () => {
      expect(() => jsonRows(store.db, { 'id; drop table x': 'text' } as never, [])).toThrow(/bad name/);
    });
  });
}
