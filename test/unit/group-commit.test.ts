import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/store.js';

describe('group commit on SQLite', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  async function freshStore() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'group-commit-'));
    dirs.push(dir);
    const store = Store.open(`sqlite:${path.join(dir, 'db.sqlite')}`);
    await store.migrate();
    return store;
  }

  const insertAccount = (store: Store, id: string) =>
    store.write((tx) =>
      tx.insertInto('accounts').values({ id, email: `${id}@example.com`, password_hash: null, plan: 'trial', subscription_expires_at: null, active: 1, is_admin: 0, webhook_url: null, webhook_secret: null, disconnect_email: 1, created_at: 1 }).execute(),
    );

  it('commits concurrent writes together, and a failing write alone is rolled back', async () => {
    const store = await freshStore();
    try {
      const results = await Promise.allSettled([
        insertAccount(store, 'a'),
        insertAccount(store, 'b'),
        // writes a row, then fails: its row must not survive
        store.write(async (tx) => {
          await tx.insertInto('accounts').values({ id: 'c', email: 'c@example.com', password_hash: null, plan: 'trial', subscription_expires_at: null, active: 1, is_admin: 0, webhook_url: null, webhook_secret: null, disconnect_email: 1, created_at: 1 }).execute();
          throw new Error('changed my mind');
        }),
        insertAccount(store, 'a'), // duplicate key: fails alone
        insertAccount(store, 'd'),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected', 'fulfilled']);
      const ids = (await store.db.selectFrom('accounts').select('id').orderBy('id').execute()).map((r) => r.id);
      expect(ids).toEqual(['a', 'b', 'd']);
    } finally {
      await store.close();
    }
  });

  it('resolves a write only after its commit is visible to another connection', async () => {
    const store = await freshStore();
    try {
      await Promise.all(Array.from({ length: 50 }, (_, i) => insertAccount(store, `x${i}`)));
      const other = Store.open(`sqlite:${path.join(dirs[0]!, 'db.sqlite')}`);
      const count = await other.db.selectFrom('accounts').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      await other.close();
      expect(Number(count.n)).toBe(50);
    } finally {
      await store.close();
    }
  });
});
