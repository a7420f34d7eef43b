import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { connectReceiver, deliveries, fakeClock } from './helpers.js';
import { receiverPool } from './receiver.js';

/** What one account can pile up is bounded: API keys, test webhooks, redeliveries (429 too_many_requests beyond). */
for (const dialect of testDialects()) {
  describe(`per-account bounds (${dialect})`, () => {
    let t: TestApp;
    const clock = fakeClock();
    const receivers = receiverPool();

    beforeAll(async () => {
      t = await startTestApp(dialect, {
        env: { ALLOW_PRIVATE_URLS: 'true', WEBHOOK_TIMEOUT_MS: '1500', API_KEYS_PER_ACCOUNT: '3', WEBHOOK_TESTS_PER_MINUTE: '2', REDELIVERIES_PER_HOUR: '3' },
        clock: clock.read,
      });
    });
    afterAll(async () => {
      await t.close();
      await receivers.close();
    });

    async function connectedAccount() {
      const r = await receivers.start();
      const account = await t.createAccount('unlimited');
      await connectReceiver(t, account.apiKey, r);
      return { ...account, r };
    }
    const call = (method: 'GET' | 'POST' | 'DELETE', url: string, apiKey: string) => t.inject({ method, url, headers: { 'x-api-key': apiKey } });
    const redeliver = (apiKey: string, id: string) => call('POST', `/api/v1/webhooks/deliveries/${id}/redeliver`, apiKey);
    function expectTooMany(res: { statusCode: number; body: string; json(): any; headers: Record<string, unknown> }, withRetryAfter: boolean) {
      expect(res.statusCode, res.body).toBe(429);
      expect(res.json()).toEqual({ success: false, code: 'too_many_requests', error: expect.any(String) });
      if (withRetryAfter) expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    }
    async function deliveredEvents(a: { apiKey: string }, n: number) {
      for (let i = 0; i < n; i++) {
        const res = await t.inject({ method: 'POST', url: '/api/v1/sandbox/incoming', headers: { 'x-api-key': a.apiKey }, payload: { from: '12125559876', text: `event ${i}` } });
        expect(res.statusCode, res.body).toBe(200);
      }
      await expect.poll(async () => (await deliveries(t, a.apiKey, '&status=delivered')).length, { timeout: 10_000 }).toBe(n);
      return deliveries(t, a.apiKey);
    }

    it('queues an event once however often it is redelivered while it waits: the pending delivery is the answer', async () => {
      const a = await connectedAccount();
      const [original] = await deliveredEvents(a, 1);
      // From now on the receiver is down: a queued redelivery stays pending (its retry is 30 s+ away on the fake clock).
      a.r.answer = () => ({ status: 503 });
      const answers = await Promise.all(Array.from({ length: 8 }, () => redeliver(a.apiKey, original.id)));
      for (const res of answers) expect(res.statusCode, res.body).toBe(200);
      // One of them queued the event; the others found it queued.
      expect(answers.filter((res) => res.json().queued === true)).toHaveLength(1);
      const ids = new Set(answers.map((res) => res.json().delivery.id));
      expect(ids.size).toBe(1);
      const [queued] = ids;
      expect(queued).not.toBe(original.id);
      // Redelivering the pending copy itself answers the same.
      expect((await redeliver(a.apiKey, queued!)).json()).toMatchObject({ queued: false, delivery: { id: queued, eventId: original.eventId, status: 'pending' } });
      expect(await deliveries(t, a.apiKey)).toHaveLength(2);
      await expect.poll(() => a.r.received.length, { timeout: 5000 }).toBe(2);
      expect(new Set(a.r.received.map((x) => x.id))).toEqual(new Set([original.eventId]));
    });

    it('allows REDELIVERIES_PER_HOUR redeliveries an hour per account, then 429 with Retry-After', async () => {
      const a = await connectedAccount();
      const other = await connectedAccount();
      const events = await deliveredEvents(a, 4);
      for (const d of events.slice(0, 3)) expect((await redeliver(a.apiKey, d.id)).statusCode).toBe(200);
      const refused = await redeliver(a.apiKey, events[3].id);
      expectTooMany(refused, true);
      expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(3600);
      // Another account is not affected.
      const [theirs] = await deliveredEvents(other, 1);
      expect((await redeliver(other.apiKey, theirs.id)).statusCode).toBe(200);
      clock.now += 60 * 60 * 1000 + 1000;
      expect((await redeliver(a.apiKey, events[3].id)).statusCode).toBe(200);
    });

    it('allows WEBHOOK_TESTS_PER_MINUTE test webhooks a minute, then 429 with Retry-After', async () => {
      const a = await connectedAccount();
      const test = () => call('POST', '/api/v1/webhooks/test', a.apiKey);
      const answers = await Promise.all([test(), test(), test(), test()]);
      expect(answers.map((res) => res.statusCode).sort()).toEqual([200, 200, 429, 429]);
      for (const res of answers.filter((x) => x.statusCode === 429)) expectTooMany(res, true);
      expect(a.r.received).toHaveLength(2);
      clock.now += 61_000;
      expect((await test()).statusCode).toBe(200);
    });

    it('allows API_KEYS_PER_ACCOUNT active keys, however many requests race; a revoked key frees its place', async () => {
      const a = await t.createAccount('unlimited');
      const answers = await Promise.all(Array.from({ length: 10 }, () => call('POST', '/api/v1/keys', a.apiKey)));
      // The account's first key and two more.
      expect(answers.filter((res) => res.statusCode === 200)).toHaveLength(2);
      for (const res of answers.filter((x) => x.statusCode !== 200)) expectTooMany(res, false);
      const keys = (await call('GET', '/api/v1/keys', a.apiKey)).json().keys;
      expect(keys).toHaveLength(3);
      const spare = answers.find((res) => res.statusCode === 200)!.json();
      expect((await call('DELETE', `/api/v1/keys/${spare.id}`, a.apiKey)).statusCode).toBe(200);
      expect((await call('POST', '/api/v1/keys', a.apiKey)).statusCode).toBe(200);
      expectTooMany(await call('POST', '/api/v1/keys', a.apiKey), false);
    });
  });
}
