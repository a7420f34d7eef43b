import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { completeJob, enqueue, type OutboxJob } from '../../src/core/outbox.js';
import { OutboxWorker } from '../../src/delivery/outbox-worker.js';
import { Store } from '../../src/store/store.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../helpers/databases.js';
import { sleep } from './helpers.js';

// The generic lane worker on its own: bounded per account, no head-of-line blocking, crash-safe.
for (const dialect of testDialects()) {
  describe(`outbox worker (${dialect})`, () => {
    let database: TestDatabase;
    let store: Store;
    let worker: OutboxWorker | undefined;

    beforeEach(async () => {
      database = await createTestDatabase(dialect);
      store = Store.open(database.url);
      await store.migrate();
    });
    afterEach(async () => {
      await worker?.stop();
      worker = undefined;
      await store.close();
      await database.drop();
    });

    const enqueueJobs = (accountId: string, n: number) =>
      store.write(async (tx) => {
        for (let i = 0; i < n; i++) await enqueue(tx, { kind: 'email', accountId, ref: `${accountId}-${i}`, runAt: Date.now(), now: Date.now() });
      });

    it('runs at most perAccount jobs of an account at once, and a stuck account holds back no other', async () => {
      const handled: string[] = [];
      const running = new Map<string, number>();
      const most = new Map<string, number>();
      let unblock!: () => void;
      const blocked = new Promise<void>((resolve) => (unblock = resolve));
      const handle = async (job: OutboxJob) => {
        const now = (running.get(job.account_id) ?? 0) + 1;
        running.set(job.account_id, now);
        most.set(job.account_id, Math.max(most.get(job.account_id) ?? 0, now));
        if (job.account_id === 'stuck') await blocked;
        else await sleep(2);
        handled.push(job.ref);
        running.set(job.account_id, running.get(job.account_id)! - 1);
        await store.write((tx) => completeJob(tx, job.seq));
      };
      await enqueueJobs('stuck', 10);
      await enqueueJobs('a', 15);
      await enqueueJobs('b', 15);
      worker = new OutboxWorker({ store, kind: 'email', handle, log: pino({ level: 'silent' }), perAccount: 2, batchSize: 7, idlePollMs: 50 });
      worker.start();
      await expect.poll(() => handled.filter((r) => !r.startsWith('stuck')).length, { timeout: 5000 }).toBe(30);
      expect(running.get('stuck')).toBe(2);
      unblock();
      await expect.poll(() => handled.length, { timeout: 5000 }).toBe(40);
      expect(new Set(handled).size).toBe(40);
      expect([...most.values()].every((m) => m <= 2)).toBe(true);
      await expect.poll(async () => (await store.db.selectFrom('outbox').select('seq').execute()).length, { timeout: 10_000 }).toBe(0);
    });

    it('retries a job whose handler threw, later, without losing it', async () => {
      let calls = 0;
      const handle = async (job: OutboxJob) => {
        calls++;
        if (calls === 1) throw new Error('boom');
        await store.write((tx) => completeJob(tx, job.seq));
      };
      await enqueueJobs('x', 1);
      worker = new OutboxWorker({ store, kind: 'email', handle, log: pino({ level: 'silent' }), crashDelayMs: 100, idlePollMs: 20 });
      worker.start();
      await expect.poll(async () => (await store.db.selectFrom('outbox').selectAll().executeTakeFirst())?.last_error ?? null, { timeout: 10_000 }).toBe('boom');
      await expect.poll(async () => (await store.db.selectFrom('outbox').select('seq').execute()).length, { timeout: 3000 }).toBe(0);
      expect(calls).toBe(2);
    });

    it('hands back the jobs it had claimed but not started when it stops', async () => {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const handle = async (job: OutboxJob) => {
        await gate;
        await store.write((tx) => completeJob(tx, job.seq));
      };
      await enqueueJobs('y', 6);
      worker = new OutboxWorker({ store, kind: 'email', handle, log: pino({ level: 'silent' }), perAccount: 2 });
      worker.start();
      await expect.poll(() => worker!.inFlight, { timeout: 10_000 }).toBe(6);
      const stopping = worker.stop();
      release();
      await stopping;
      const left = await store.db.selectFrom('outbox').selectAll().execute();
      expect(left).toHaveLength(4);
      expect(left.every((j) => j.locked_by === null)).toBe(true);
    });
  });
}
