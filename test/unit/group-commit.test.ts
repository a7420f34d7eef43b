import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { afterCommit } from '../../src/store/after-commit.js';
import { GroupCommitWriter } from '../../src/store/group-commit.js';
import { Store, type Tx } from '../../src/store/store.js';
import { WalFlusher } from '../../src/store/wal-flusher.js';
import { openTestStore, testDialects } from '../helpers/databases.js';

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

  /** A write that inserts an account and, once committed, counts itself in `effects`. */
  const countedWrite = (store: Store, id: string, effects: string[], fail = false) =>
    store.write(async (tx) => {
      runs.push(id);
      await tx.insertInto('accounts').values({ id, email: `${id}@example.com`, password_hash: null, plan: 'trial', subscription_expires_at: null, active: 1, is_admin: 0, webhook_url: null, webhook_secret: null, disconnect_email: 1, created_at: 1 }).execute();
      afterCommit(tx, () => effects.push(id));
      if (fail) throw new Error(`${id} fails`);
      return id;
    });
  const runs: string[] = [];
  afterEach(() => void runs.splice(0));

  it('runs the after-commit effects of a batch with a failing write once each, and none of the failed write', async () => {
    const store = await freshStore();
    try {
      const effects: string[] = [];
      const results = await Promise.allSettled([
        countedWrite(store, 'a', effects),
        countedWrite(store, 'b', effects),
        countedWrite(store, 'c', effects, true),
        countedWrite(store, 'd', effects),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
      // The batch did run twice (optimistically, then with savepoints): the effects did not.
      expect(runs).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'd']);
      expect(effects).toEqual(['a', 'b', 'd']);
    } finally {
      await store.close();
    }
  });

  it('answers nobody as durable when the commit fails, and runs no effect', async () => {
    const store = await freshStore();
    try {
      const effects: string[] = [];
      const results = await Promise.allSettled([
        countedWrite(store, 'a', effects),
        // Checked only at COMMIT: a key to no account, with foreign keys deferred for this transaction.
        store.write(async (tx) => {
          await sql`pragma defer_foreign_keys = on`.execute(tx);
          await tx.insertInto('api_keys').values({ id: 'key_orphan', account_id: 'nobody', key_hash: 'h', prefix: 'p', created_at: 1, last_used_at: null, revoked_at: null }).execute();
          afterCommit(tx, () => effects.push('orphan'));
        }),
        countedWrite(store, 'b', effects),
      ]);
      expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
      expect(String((results[0] as PromiseRejectedResult).reason)).toMatch(/FOREIGN KEY/);
      expect(effects).toEqual([]);
      expect(await store.db.selectFrom('accounts').select('id').execute()).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('answers nobody as durable when the flush after the commit fails, and runs no effect', async () => {
    const store = await freshStore();
    const flush = vi.spyOn(WalFlusher.prototype, 'flush').mockRejectedValueOnce(new Error('EIO: the disk went away'));
    try {
      const effects: string[] = [];
      const results = await Promise.allSettled([countedWrite(store, 'a', effects), countedWrite(store, 'b', effects), countedWrite(store, 'c', effects, true)]);
      expect(flush).toHaveBeenCalledTimes(1);
      expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
      expect(String((results[0] as PromiseRejectedResult).reason)).toMatch(/EIO/);
      expect(effects).toEqual([]);
      // The next batch flushes again and is answered.
      await expect(countedWrite(store, 'd', effects)).resolves.toBe('d');
      expect(effects).toEqual(['d']);
    } finally {
      flush.mockRestore();
      await store.close();
    }
  });

  it('settles a batch only after its flush: nothing resolves, and no effect runs, while the fsync is on its way', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'group-commit-'));
    dirs.push(dir);
    const store = Store.open(`sqlite:${path.join(dir, 'db.sqlite')}`, { sqliteSynchronous: 'NORMAL' });
    await store.migrate();
    try {
      let releaseFlush!: () => void;
      const flushed = new Promise<void>((resolve) => (releaseFlush = resolve));
      let flushStarted!: () => void;
      const started = new Promise<void>((resolve) => (flushStarted = resolve));
      const writer = new GroupCommitWriter((store as unknown as { writeDb: Tx }).writeDb, () => {
        flushStarted();
        return flushed;
      });
      const effects: string[] = [];
      const write = writer.write(async (tx) => {
        await tx.insertInto('login_attempts').values({ key: 'k', failures: 1, last_failure_at: 1, blocked_until: 0 }).execute();
        afterCommit(tx, () => effects.push('k'));
        return 'done';
      });
      let settled = false;
      void write.then(() => (settled = true));
      await started;
      expect(settled).toBe(false);
      expect(effects).toEqual([]);
      releaseFlush();
      await expect(write).resolves.toBe('done');
      expect(effects).toEqual(['k']);
    } finally {
      await store.close();
    }
  });

  it('answers a write that asks only to be committed ({ durable: false }) before the flush, and the durable one in its batch after', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'group-commit-'));
    dirs.push(dir);
    const store = Store.open(`sqlite:${path.join(dir, 'db.sqlite')}`, { sqliteSynchronous: 'NORMAL' });
    await store.migrate();
    try {
      let releaseFlush!: () => void;
      const flushed = new Promise<void>((resolve) => (releaseFlush = resolve));
      const writer = new GroupCommitWriter((store as unknown as { writeDb: Tx }).writeDb, () => flushed);
      const insert = (key: string) => async (tx: Tx) => {
        await tx.insertInto('login_attempts').values({ key, failures: 1, last_failure_at: 1, blocked_until: 0 }).execute();
        return key;
      };
      const committedOnly = writer.write(insert('ordered'), { durable: false });
      let durableSettled = false;
      const durable = writer.write(insert('durable'));
      void durable.then(() => (durableSettled = true));
      await expect(committedOnly).resolves.toBe('ordered');
      // Committed: another connection sees it, while the flush has not returned.
      const seen = await store.db.selectFrom('login_attempts').select('key').where('key', '=', 'ordered').executeTakeFirst();
      expect(seen?.key).toBe('ordered');
      expect(durableSettled).toBe(false);
      releaseFlush();
      await expect(durable).resolves.toBe('durable');
    } finally {
      await store.close();
    }
  });
});

for (const dialect of testDialects()) {
  describe(`after-commit effects (${dialect})`, () => {
    it('run once after a write commits, and not at all when it rolls back', async () => {
      const { store, close } = await openTestStore(dialect);
      try {
        const effects: string[] = [];
        await store.write(async (tx) => {
          await tx.insertInto('login_attempts').values({ key: 'one', failures: 1, last_failure_at: 1, blocked_until: 0 }).execute();
          afterCommit(tx, () => effects.push('one'));
        });
        await expect(
          store.write(async (tx) => {
            await tx.insertInto('login_attempts').values({ key: 'two', failures: 1, last_failure_at: 1, blocked_until: 0 }).execute();
            afterCommit(tx, () => effects.push('two'));
            throw new Error('rolled back');
          }),
        ).rejects.toThrow('rolled back');
        expect(effects).toEqual(['one']);
        expect((await store.db.selectFrom('login_attempts').select('key').execute()).map((r) => r.key)).toEqual(['one']);
      } finally {
        await close();
      }
    });
  });
}
