import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { connectReceiver, deliveries, fakeClock, runSchedule } from './helpers.js';
import { receiverPool, TestReceiver } from './receiver.js';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

for (const dialect of testDialects()) {
  describe(`webhook delivery (${dialect})`, () => {
    let t: TestApp;
    const clock = fakeClock();
    const receivers = receiverPool();
    const receiver = receivers.start;
    const send = (key: string, payload: object) => t.inject({ method: 'POST', url: '/api/v1/send', headers: { 'x-api-key': key }, payload });
    const incoming = (key: string, payload: object) => t.inject({ method: 'POST', url: '/api/v1/sandbox/incoming', headers: { 'x-api-key': key }, payload });

    beforeAll(async () => {
      // Loopback receivers need the operator switch; settings.test.ts checks the guard without it.
      t = await startTestApp(dialect, { env: { ALLOW_PRIVATE_URLS: 'true', WEBHOOK_TIMEOUT_MS: '1500' }, clock: clock.read });
    });
    afterAll(async () => {
      await t.close();
      await receivers.close();
    });

    it('delivers the four events with the payloads of SPEC §5, each signed and verified by standardwebhooks', async () => {
      const r = await receiver();
      const { apiKey } = await t.createAccount('unlimited');
      await connectReceiver(t, apiKey, r);
      const sent = (await send(apiKey, { recipient: '+1 212 555 1234', text: 'hello' })).json();
      const failed = (await send(apiKey, { recipient: '12125550000', text: 'nobody' })).json();
      const direct = (await incoming(apiKey, { from: '12125559876', text: 'hi there', pushName: 'Ann' })).json();
      const group = (await incoming(apiKey, { from: '12125559877', text: 'to the group', groupId: '120363012345678901@g.us' })).json();
      await t.inject({ method: 'POST', url: '/api/v1/sandbox/disconnect', headers: { 'x-api-key': apiKey }, payload: { reason: 'logged_out' } });

      await expect.poll(() => r.events().length, { timeout: 5000 }).toBe(5);
      expect(r.received.every((x) => x.verified)).toBe(true);
      const byEvent = (name: string) => r.events().filter((e) => e.body.event === name).map((e) => e.body);
      expect(byEvent('message.sent')).toEqual([
        { event: 'message.sent', timestamp: expect.stringMatching(ISO), message: { id: sent.messageId, recipient: '12125551234', type: 'text', status: 'sent' } },
      ]);
      expect(byEvent('message.failed')).toEqual([
        {
          event: 'message.failed',
          timestamp: expect.stringMatching(ISO),
          message: { id: failed.messageId, recipient: '12125550000', type: 'text', status: 'failed', error: expect.stringMatching(/not on WhatsApp/) },
        },
      ]);
      const received = byEvent('message.received');
      expect(received).toContainEqual({
        event: 'message.received',
        timestamp: expect.stringMatching(ISO),
        message: {
          id: direct.id,
          messageId: direct.messageId,
          from: '12125559876',
          fromLid: null,
          pushName: 'Ann',
          type: 'text',
          text: 'hi there',
          isGroup: false,
          groupId: null,
          participant: null,
          timestamp: expect.stringMatching(ISO),
          quoted: null,
          mentions: [],
        },
      });
      expect(received).toContainEqual({
        event: 'message.received',
        timestamp: expect.stringMatching(ISO),
        message: expect.objectContaining({ id: group.id, text: 'to the group', isGroup: true, groupId: '120363012345678901@g.us', participant: '12125559877' }),
      });
      expect(byEvent('session.disconnected')).toEqual([
        { event: 'session.disconnected', timestamp: expect.stringMatching(ISO), phone: expect.stringMatching(/^\d+$/), reason: 'logged_out' },
      ]);
      // Each webhook-id is its own event.
      expect(new Set(r.events().map((e) => e.id)).size).toBe(5);

      // The outcome is committed just after the receiver answers.
      await expect.poll(async () => (await deliveries(t, apiKey)).every((d) => d.status === 'delivered'), { timeout: 10_000 }).toBe(true);
      const log = await deliveries(t, apiKey);
      expect(log).toHaveLength(5);
      expect(log[0]).toEqual({
        id: expect.stringMatching(/^whd_/),
        eventId: expect.stringMatching(/^evt_/),
        event: 'session.disconnected',
        status: 'delivered',
        attempts: 1,
        lastStatus: 200,
        lastError: null,
        nextAttemptAt: null,
        createdAt: expect.stringMatching(ISO),
        deliveredAt: expect.stringMatching(ISO),
        test: false,
      });
    });

    it('signs the exact bytes sent, non-ASCII text included, with a fresh timestamp per attempt', async () => {
      const r = await receiver();
      const { apiKey } = await t.createAccount('unlimited');
      await connectReceiver(t, apiKey, r);
      let calls = 0;
      r.answer = () => (++calls === 1 ? { status: 500 } : { status: 200 });
      const text = 'héllo 👋 "quotes" \\ </script> \u2028';
      await incoming(apiKey, { from: '12125559876', text });
      await expect.poll(() => r.events().length, { timeout: 10_000 }).toBe(2);
      expect(r.received.every((x) => x.verified)).toBe(true);
      expect(r.events()[0]!.body.message.text).toBe(text);
      expect(r.received[1]!.body).toBe(r.received[0]!.body);
      expect(Math.abs(Number(r.received[0]!.timestamp) - Date.now() / 1000)).toBeLessThan(60);
    });

    it('records no events for plans without webhooks', async () => {
      const { id, apiKey } = await t.createAccount('trial');
      await send(apiKey, { recipient: '12125551234', text: 'hello' });
      await incoming(apiKey, { from: '12125559876', text: 'hi' });
      const rows = await t.runtime.store.db.selectFrom('webhook_deliveries').select('id').where('account_id', '=', id).execute();
      expect(rows).toHaveLength(0);
    });

    it('Test incoming delivers a signed test message.received at once and reports the status and time', async () => {
      const r = await receiver();
      const { apiKey } = await t.createAccount('unlimited');
      const none = await t.inject({ method: 'POST', url: '/api/v1/webhooks/test', headers: { 'x-api-key': apiKey } });
      expect(none.statusCode).toBe(400);
      await connectReceiver(t, apiKey, r);
      const res = await t.inject({ method: 'POST', url: '/api/v1/webhooks/test', headers: { 'x-api-key': apiKey } });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ success: true, status: 200, durationMs: expect.any(Number), deliveryId: expect.any(String), eventId: expect.any(String) });
      // Synchronous: the receiver has it when the answer comes.
      expect(r.events()).toHaveLength(1);
      const body = r.events()[0]!.body;
      expect(body).toMatchObject({ event: 'message.received', test: true, message: { type: 'text', isGroup: false, groupId: null, participant: null } });
      expect((await deliveries(t, apiKey))[0]).toMatchObject({ status: 'delivered', test: true, attempts: 1, lastStatus: 200 });

      r.answer = () => ({ status: 500 });
      const bad = await t.inject({ method: 'POST', url: '/api/v1/webhooks/test', headers: { 'x-api-key': apiKey } });
      expect(bad.json()).toMatchObject({ success: true, status: 500, error: expect.stringMatching(/500/) });

      await t.inject({ method: 'PATCH', url: '/api/v1/settings', headers: { 'x-api-key': apiKey }, payload: { webhookUrl: 'http://127.0.0.1:9/closed' } });
      const down = await t.inject({ method: 'POST', url: '/api/v1/webhooks/test', headers: { 'x-api-key': apiKey } });
      expect(down.json()).toMatchObject({ success: true, status: null, error: expect.stringMatching(/refused/) });
    });

    it('Test incoming reports a receiver that does not answer in time, and keeps only the start of a long answer', async () => {
      const r = await receiver();
      const { apiKey } = await t.createAccount('unlimited');
      await connectReceiver(t, apiKey, r);
      const test = async () => (await t.inject({ method: 'POST', url: '/api/v1/webhooks/test', headers: { 'x-api-key': apiKey } })).json();
      const attempts = async (id: string) => (await t.inject({ method: 'GET', url: `/api/v1/webhooks/deliveries/${id}`, headers: { 'x-api-key': apiKey } })).json().delivery.attemptLog;

      r.answer = () => ({ status: 200, hang: true });
      const hung = await test();
      expect(hung).toMatchObject({ success: true, status: null, error: 'The receiver did not answer within 1.5 s.' });
      expect(hung.durationMs).toBeGreaterThanOrEqual(1400);

      // An answer that starts and never ends is cut at the limit; its status counts.
      r.answer = () => ({ status: 200, trickle: true });
      const trickled = await test();
      expect(trickled).toMatchObject({ success: true, status: 200 });
      expect(trickled.durationMs).toBeGreaterThanOrEqual(1400);
      expect(trickled.durationMs).toBeLessThan(5000);
      expect(await attempts(trickled.deliveryId)).toEqual([expect.objectContaining({ status: 200, response: 'the start of an answer' })]);

      // 200 KiB: reading stops after 64 KiB, the status still counts, and the log keeps 500 characters.
      r.answer = () => ({ status: 200, body: `${'a'.repeat(500)}${'b'.repeat(200 * 1024)}` });
      const long = await test();
      expect(long).toMatchObject({ success: true, status: 200 });
      expect(await attempts(long.deliveryId)).toEqual([expect.objectContaining({ status: 200, error: null, response: 'a'.repeat(500) })]);

      r.answer = () => ({ status: 503, headers: { 'retry-after': '30' }, body: 'busy' });
      const busy = await test();
      expect(busy).toMatchObject({ success: true, status: 503, error: 'The receiver answered HTTP 503.' });
      expect(await attempts(busy.deliveryId)).toEqual([expect.objectContaining({ status: 503, response: 'busy' })]);
    });

    it('redelivers an event with the same webhook-id and the same body', async () => {
      const r = await receiver();
      const { apiKey } = await t.createAccount('unlimited');
      await connectReceiver(t, apiKey, r);
      await incoming(apiKey, { from: '12125559876', text: 'again' });
      await expect.poll(() => r.events().length, { timeout: 10_000 }).toBe(1);
      // Delivered, not only sent: while an event is still queued, redeliver answers its pending delivery.
      await expect.poll(async () => (await deliveries(t, apiKey))[0]?.status, { timeout: 10_000 }).toBe('delivered');
      const [first] = await deliveries(t, apiKey);
      const res = await t.inject({ method: 'POST', url: `/api/v1/webhooks/deliveries/${first.id}/redeliver`, headers: { 'x-api-key': apiKey } });
      expect(res.statusCode).toBe(200);
      expect(res.json().delivery).toMatchObject({ eventId: first.eventId, status: 'pending', attempts: 0 });
      await expect.poll(() => r.events().length, { timeout: 10_000 }).toBe(2);
      const [a, b] = r.received;
      expect(b!.id).toBe(a!.id);
      expect(b!.body).toBe(a!.body);
      const detail = await t.inject({ method: 'GET', url: `/api/v1/webhooks/deliveries/${first.id}`, headers: { 'x-api-key': apiKey } });
      expect(detail.json().delivery).toMatchObject({ id: first.id, payload: { event: 'message.received' }, attemptLog: [{ status: 200, url: r.url }] });

      const other = await t.createAccount('unlimited');
      const foreign = await t.inject({ method: 'POST', url: `/api/v1/webhooks/deliveries/${first.id}/redeliver`, headers: { 'x-api-key': other.apiKey } });
      expect(foreign.statusCode).toBe(404);
    });

    it('retries a receiver that answers 500 for a while: every event arrives, ids de-duplicate to exactly the events, one body per id', async () => {
      const r = await receiver();
      const { id, apiKey } = await t.createAccount('unlimited');
      await connectReceiver(t, apiKey, r);
      let failures = 45;
      r.answer = () => (failures-- > 0 ? { status: 500 } : { status: 200 });
      for (let i = 0; i < 20; i++) await incoming(apiKey, { from: '12125559876', text: `burst ${i}` });
      const events = await t.runtime.store.db.selectFrom('webhook_deliveries').select(['event_id']).where('account_id', '=', id).execute();
      expect(events).toHaveLength(20);
      await runSchedule(t, clock, id, async () => (await deliveries(t, apiKey, '&status=delivered')).length === 20);

      const bodies = new Map<string, string>();
      for (const got of r.received) {
        expect(got.verified).toBe(true);
        if (bodies.has(got.id)) expect(got.body).toBe(bodies.get(got.id));
        bodies.set(got.id, got.body);
      }
      expect([...bodies.keys()].sort()).toEqual(events.map((e) => e.event_id).sort());
      expect(new Set([...bodies.values()].map((b) => JSON.parse(b).message.text)).size).toBe(20);
      expect(r.received.length).toBeGreaterThan(20);
      const log = await deliveries(t, apiKey);
      expect(log.every((d) => d.status === 'delivered' && d.lastStatus === 200)).toBe(true);
      expect(log.some((d) => d.attempts > 1)).toBe(true);
    });

    it('stops deliveries to a URL that answers 410, says so in Settings, and resumes when the URL is set again', async () => {
      const r = await receiver();
      const { id, apiKey } = await t.createAccount('unlimited');
      await connectReceiver(t, apiKey, r);
      r.answer = () => ({ status: 410 });
      await incoming(apiKey, { from: '12125559876', text: 'gone?' });
      await expect.poll(async () => (await deliveries(t, apiKey))[0]?.status, { timeout: 10_000 }).toBe('dead');
      expect((await deliveries(t, apiKey))[0]).toMatchObject({ attempts: 1, lastStatus: 410, lastError: expect.stringMatching(/410/) });
      const settings = (await t.inject({ method: 'GET', url: '/api/v1/settings', headers: { 'x-api-key': apiKey } })).json();
      expect(settings).toMatchObject({ webhookState: 'stopped', webhookStoppedAt: expect.stringMatching(ISO) });

      await incoming(apiKey, { from: '12125559876', text: 'not sent' });
      // A delivery is queued in the event's transaction, committed before the answer: none was.
      expect(await t.runtime.store.db.selectFrom('webhook_deliveries').select('id').where('account_id', '=', id).execute()).toHaveLength(1);
      expect(r.received).toHaveLength(1);

      r.answer = () => ({ status: 200 });
      await connectReceiver(t, apiKey, r);
      expect((await t.inject({ method: 'GET', url: '/api/v1/settings', headers: { 'x-api-key': apiKey } })).json().webhookState).toBe('active');
      await incoming(apiKey, { from: '12125559876', text: 'back' });
      await expect.poll(() => r.events().length, { timeout: 10_000 }).toBe(2);
    });

    it('treats a redirect as a failure and does not follow it', async () => {
      const r = await receiver();
      const target = await receiver();
      const { apiKey } = await t.createAccount('unlimited');
      await connectReceiver(t, apiKey, r);
      r.answer = () => ({ status: 302, headers: { location: target.url } });
      await t.inject({ method: 'POST', url: '/api/v1/webhooks/test', headers: { 'x-api-key': apiKey } });
      // Once the attempt is recorded it is over, and a redirect it followed would have arrived.
      await expect.poll(async () => (await deliveries(t, apiKey))[0]?.lastStatus, { timeout: 10_000 }).toBe(302);
      expect((await deliveries(t, apiKey))[0]).toMatchObject({ lastStatus: 302, lastError: expect.stringMatching(/redirect/) });
      expect(target.received).toHaveLength(0);
    });

    it('slows down on 429 with Retry-After', async () => {
      const r = await receiver();
      const { id, apiKey } = await t.createAccount('unlimited');
      await connectReceiver(t, apiKey, r);
      r.answer = () => ({ status: 429, headers: { 'retry-after': '600' } });
      await incoming(apiKey, { from: '12125559876', text: 'busy' });
      await expect.poll(async () => (await deliveries(t, apiKey))[0]?.attempts, { timeout: 10_000 }).toBe(1);
      const job = await t.runtime.store.db.selectFrom('outbox').selectAll().where('kind', '=', 'webhook').where('account_id', '=', id).executeTakeFirstOrThrow();
      // The schedule says "immediately"; the receiver asked for 10 minutes.
      expect(job.run_at - clock.now).toBeGreaterThanOrEqual(600_000 - 1000);
      const [d] = await deliveries(t, apiKey);
      expect(d.status).toBe('pending');
      expect(Date.parse(d.nextAttemptAt)).toBe(job.run_at);
      // The account's next event waits for the same moment, without spending an attempt on a busy receiver.
      await incoming(apiKey, { from: '12125559876', text: 'also busy' });
      await expect.poll(async () => (await deliveries(t, apiKey))[0]?.nextAttemptAt ?? null, { timeout: 10_000 }).toBe(new Date(job.run_at).toISOString());
      expect(r.received).toHaveLength(1);
      expect((await deliveries(t, apiKey))[0]).toMatchObject({ status: 'pending', attempts: 0 });
      await t.inject({ method: 'PATCH', url: '/api/v1/settings', headers: { 'x-api-key': apiKey }, payload: { webhookUrl: null } });
    });

    it("keeps one account's dead or hanging receiver from holding back another account's deliveries", async () => {
      // Its own gateway, whose requests outlast the test: with the file's 1.5 s timeout a loaded
      // machine timed the hanging requests out mid-test, and their immediate retries reached the
      // receiver before it had seen the aborted ones close (9-11 open as the receiver counts them,
      // while the gateway never had more than its 8 in flight).
      const own = await startTestApp(dialect, { env: { ALLOW_PRIVATE_URLS: 'true', WEBHOOK_TIMEOUT_MS: '60000' }, clock: clock.read });
      const slow = await TestReceiver.start();
      try {
        const ownIncoming = (key: string, payload: object) => own.inject({ method: 'POST', url: '/api/v1/sandbox/incoming', headers: { 'x-api-key': key }, payload });
        const fine = await receiver();
        const a = await own.createAccount('unlimited');
        const b = await own.createAccount('unlimited');
        await connectReceiver(own, a.apiKey, slow);
        await connectReceiver(own, b.apiKey, fine);
        slow.answer = () => ({ status: 200, hang: true });
        for (let i = 0; i < 40; i++) await ownIncoming(a.apiKey, { from: '12125559876', text: `a ${i}` });
        await expect.poll(() => slow.open, { timeout: 10_000 }).toBe(own.runtime.config.webhooks.concurrencyPerAccount);
        for (let i = 0; i < 20; i++) await ownIncoming(b.apiKey, { from: '12125559876', text: `b ${i}` });
        await expect.poll(() => fine.events().length, { timeout: 10_000 }).toBe(20);
        // A's receiver never answered; B's deliveries went by all the same, and A never had more
        // than its own share of requests open.
        expect(slow.events().length).toBeGreaterThan(0);
        expect(slow.maxOpen).toBe(own.runtime.config.webhooks.concurrencyPerAccount);
        expect((await deliveries(own, a.apiKey, '&status=delivered')).length).toBe(0);
      } finally {
        // The hanging requests end with their receiver, so the gateway's shutdown does not wait on them.
        await slow.close();
        await own.close();
      }
    });

    it('follows the schedule held as data, with ±20% jitter, for at least 24 h, then marks the delivery dead', async () => {
      const r = await receiver();
      const { id, apiKey } = await t.createAccount('unlimited');
      await connectReceiver(t, apiKey, r);
      r.answer = () => ({ status: 503 });
      const start = clock.now;
      await incoming(apiKey, { from: '12125559876', text: 'never' });
      await runSchedule(t, clock, id, async () => (await deliveries(t, apiKey))[0]?.status === 'dead');
      const attemptTimes = (
        await t.runtime.store.db
          .selectFrom('webhook_attempts')
          .innerJoin('webhook_deliveries', 'webhook_deliveries.id', 'webhook_attempts.delivery_id')
          .select('webhook_attempts.at')
          .where('webhook_deliveries.account_id', '=', id)
          .orderBy('webhook_attempts.seq')
          .execute()
      ).map((x) => x.at);
      const gaps = attemptTimes.slice(1).map((at, i) => at - attemptTimes[i]!);
      const schedule = [0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];
      // 503 slows down: no retry sooner than 30 s.
      schedule.forEach((base, i) => {
        const low = Math.max(base * 0.8, 30_000);
        const high = Math.max(base * 1.2, 30_000) + 1000;
        expect(gaps[i], `retry ${i + 1}`).toBeGreaterThanOrEqual(low - 1);
        expect(gaps[i], `retry ${i + 1}`).toBeLessThanOrEqual(high);
      });
      expect(attemptTimes.at(-1)! - start).toBeGreaterThanOrEqual(24 * 60 * 60 * 1000);
      const [d] = await deliveries(t, apiKey);
      expect(d).toMatchObject({ status: 'dead', lastStatus: 503, nextAttemptAt: null });
      expect(d.attempts).toBe(attemptTimes.length);
      // Every attempt carried the same id and body, with a fresh timestamp.
      expect(new Set(r.received.map((x) => x.id)).size).toBe(1);
      expect(new Set(r.received.map((x) => x.body)).size).toBe(1);
      expect(await t.runtime.store.db.selectFrom('outbox').select('seq').where('account_id', '=', id).execute()).toHaveLength(0);
    });

    it('prunes finished deliveries after the retention period and keeps pending ones', async () => {
      const r = await receiver();
      const { id, apiKey } = await t.createAccount('unlimited');
      await connectReceiver(t, apiKey, r);
      await incoming(apiKey, { from: '12125559876', text: 'old' });
      await expect.poll(async () => (await deliveries(t, apiKey))[0]?.status, { timeout: 10_000 }).toBe('delivered');
      r.answer = () => ({ status: 500 });
      await incoming(apiKey, { from: '12125559876', text: 'still trying' });
      await expect.poll(async () => (await deliveries(t, apiKey))[0]?.attempts, { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
      clock.now += 6 * 24 * 60 * 60 * 1000;
      await t.runtime.eventDelivery.prune();
      expect(await deliveries(t, apiKey)).toHaveLength(2);
      clock.now += 2 * 24 * 60 * 60 * 1000;
      await t.runtime.eventDelivery.prune();
      const left = await deliveries(t, apiKey);
      expect(left.map((d) => d.status)).toEqual(['pending']);
      const attempts = await t.runtime.store.db
        .selectFrom('webhook_attempts')
        .innerJoin('webhook_deliveries', 'webhook_deliveries.id', 'webhook_attempts.delivery_id')
        .select('webhook_attempts.seq')
        .where('webhook_deliveries.account_id', '=', id)
        .execute();
      expect(attempts.length).toBeGreaterThan(0);
    });
  });
}
