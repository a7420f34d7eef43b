import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { connectReceiver, deliveries, fakeClock, runSchedule } from './helpers.js';
import { receiverPool, TestReceiver } from './receiver.js';

const EVENTS_PER_ACCOUNT = 8;

/**
 * One tenant's receiver must not break another tenant's deliveries: outcomes are written in
 * batches, and on PostgreSQL one unstorable answer (a NUL byte) used to fail the whole batch.
 */
for (const dialect of testDialects()) {
  describe(`webhook outcomes isolated per tenant (${dialect})`, () => {
    let t: TestApp;
    const clock = fakeClock();
    const receivers = receiverPool();

    beforeAll(async () => {
      // No jitter, so the schedule is exact: its 27 h 35 min end after exactly eight retries. With
      // ±20% jitter the eight can sum to under 24 h (about 2% of deliveries), and then the promised
      // "at least 24 h" adds a ninth, which made the count of tries below fail now and then.
      t = await startTestApp(dialect, { env: { ALLOW_PRIVATE_URLS: 'true', WEBHOOK_TIMEOUT_MS: '1500' }, clock: clock.read, random: () => 0.5 });
    });
    afterAll(async () => {
      await t.close();
      await receivers.close();
    });

    async function tenant(answer: TestReceiver['answer']) {
      const r = await receivers.start();
      r.answer = answer;
      const account = await t.createAccount('unlimited');
      await connectReceiver(t, account.apiKey, r);
      return { ...account, r };
    }
    const incoming = (key: string, text: string) =>
      t.inject({ method: 'POST', url: '/api/v1/sandbox/incoming', headers: { 'x-api-key': key }, payload: { from: '12125559876', text } });
    const attemptLog = async (key: string, id: string) =>
      (await t.inject({ method: 'GET', url: `/api/v1/webhooks/deliveries/${id}`, headers: { 'x-api-key': key } })).json().delivery.attemptLog;

    it('a receiver answering 200 with a NUL byte: every tenant gets each event once, and its answer is stored without the NUL', async () => {
      const good = [await tenant(() => ({ status: 200 })), await tenant(() => ({ status: 200 }))];
      const bad = await tenant(() => ({ status: 200, body: 'ok\u0000then\u0000more' }));
      const all = [...good, bad];
      // Interleaved, so outcomes of all three land in the same batched writes.
      for (let i = 0; i < EVENTS_PER_ACCOUNT; i++) {
        await Promise.all(all.map(async (a) => expect((await incoming(a.apiKey, `event ${i}`)).statusCode).toBe(200)));
      }
      for (const a of all) {
        await expect.poll(async () => (await deliveries(t, a.apiKey, '&status=delivered')).length, { timeout: 10_000 }).toBe(EVENTS_PER_ACCOUNT);
      }
      // Time moves on well past every retry: nothing is sent again.
      clock.now += 48 * 60 * 60 * 1000;
      t.runtime.eventDelivery.kick();
      await expect.poll(async () => Number((await t.runtime.store.db.selectFrom('outbox').select((eb) => eb.fn.countAll().as('n')).where('kind', '=', 'webhook').executeTakeFirstOrThrow()).n), { timeout: 5000 }).toBe(0);
      for (const a of all) {
        expect(a.r.received).toHaveLength(EVENTS_PER_ACCOUNT);
        expect(new Set(a.r.received.map((x) => x.id)).size).toBe(EVENTS_PER_ACCOUNT);
        const log = await deliveries(t, a.apiKey);
        expect(log.every((d) => d.status === 'delivered' && d.attempts === 1 && d.lastStatus === 200)).toBe(true);
      }
      const [first] = await deliveries(t, bad.apiKey);
      expect(await attemptLog(bad.apiKey, first.id)).toEqual([expect.objectContaining({ status: 200, error: null, response: 'okthenmore' })]);
    });

    it('an outcome the database refuses fails only itself: its attempts are still counted and it ends dead on schedule', async () => {
      // A fault only one tenant's answers trigger, standing for any write that fails for one job.
      if (dialect === 'postgres') {
        await sql`create or replace function refuse_poison() returns trigger language plpgsql as $$
          begin if new.response like '%poison%' then raise exception 'refused: poison'; end if; return new; end $$`.execute(t.runtime.store.db);
        await sql`create trigger refuse_poison before insert on webhook_attempts for each row execute function refuse_poison()`.execute(t.runtime.store.db);
      } else {
        await sql`create trigger refuse_poison before insert on webhook_attempts when new.response like '%poison%' begin select raise(abort, 'refused: poison'); end`.execute(t.runtime.store.db);
      }
      const good = await tenant(() => ({ status: 200 }));
      const bad = await tenant(() => ({ status: 500, body: 'poison' }));
      for (let i = 0; i < EVENTS_PER_ACCOUNT; i++) {
        await Promise.all([good, bad].map(async (a) => expect((await incoming(a.apiKey, `event ${i}`)).statusCode).toBe(200)));
      }
      await expect.poll(async () => (await deliveries(t, good.apiKey, '&status=delivered')).length, { timeout: 10_000 }).toBe(EVENTS_PER_ACCOUNT);
      await runSchedule(t, clock, bad.id, async () => (await deliveries(t, bad.apiKey)).every((d) => d.status === 'dead'));

      expect(good.r.received).toHaveLength(EVENTS_PER_ACCOUNT);
      // One first attempt and the schedule's eight retries, each counted though its answer was refused.
      const tries = 1 + 8;
      expect(bad.r.received).toHaveLength(EVENTS_PER_ACCOUNT * tries);
      const log = await deliveries(t, bad.apiKey);
      expect(log).toHaveLength(EVENTS_PER_ACCOUNT);
      for (const d of log) expect(d).toMatchObject({ status: 'dead', attempts: tries, lastStatus: 500, lastError: 'The receiver answered HTTP 500; its answer could not be stored.' });
      const attempts = await attemptLog(bad.apiKey, log[0].id);
      expect(attempts).toHaveLength(tries);
      expect(attempts.every((a: { response: string | null }) => a.response === null)).toBe(true);
    });
  });
}
