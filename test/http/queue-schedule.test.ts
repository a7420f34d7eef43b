import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const HOUR = 3_600_000;

for (const dialect of testDialects()) {
  describe(`scheduled sends and cancelling (${dialect})`, () => {
    let t: TestApp;
    let key: string;
    let now = Date.now();

    beforeAll(async () => {
      t = await startTestApp(dialect, { clock: () => now });
      key = (await t.createAccount('trial')).apiKey;
    });
    afterAll(() => t.close());

    const headers = () => ({ 'x-api-key': key });
    const send = (payload: Record<string, unknown>) => t.inject({ method: 'POST', url: '/api/v1/send', headers: headers(), payload: { to: '12125551234', text: 'hi', ...payload } });
    const get = async (id: string) => (await t.inject({ method: 'GET', url: `/api/v1/messages/${id}`, headers: headers() })).json();
    const records = async () => (await t.inject({ method: 'GET', url: '/api/v1/sandbox/sends?limit=1000', headers: headers() })).json().sends as Array<Record<string, any>>;
    const usedToday = async () => (await t.inject({ method: 'GET', url: '/api/v1/status', headers: headers() })).json().messagesToday as number;

    it('accepts a message for later at once as scheduled, counts it now, and sends it once, when its time comes', async () => {
      const before = await usedToday();
      const sendAt = new Date(now + HOUR).toISOString();
      const res = await send({ text: 'later', sendAt });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ success: true, status: 'scheduled' });
      expect(res.headers['ratelimit-remaining']).toBeDefined();
      const id = res.json().messageId as string;
      expect(await get(id)).toMatchObject({ status: 'scheduled', sendAt, sentAt: null, priority: 'normal' });
      expect(await usedToday()).toBe(before + 1);
      // Other sends flow meanwhile; the scheduled one stays off the network.
      const other = await send({ text: 'now' });
      expect(other.json().status).toBe('sent');
      expect((await records()).filter((r) => r.messageId === id)).toEqual([]);
      now += HOUR;
      t.runtime.dispatcher.kick();
      await expect.poll(async () => (await get(id)).status, { timeout: 10_000 }).toBe('sent');
      const sent = (await records()).filter((r) => r.messageId === id);
      expect(sent).toHaveLength(1);
      expect(Date.parse(sent[0]!.at)).toBeGreaterThanOrEqual(Date.parse(sendAt));
    });

    it('refuses a sendAt beyond 30 days, a time without a zone, and an expiry before the send time', async () => {
      const far = await send({ sendAt: new Date(now + 31 * 24 * HOUR).toISOString() });
      expect(far.statusCode).toBe(400);
      expect(far.json()).toMatchObject({ success: false, code: 'invalid_parameter' });
      expect(far.json().error).toMatch(/at most 30 days ahead/);
      const local = await send({ sendAt: '2030-01-01T10:00:00' });
      expect(local.json()).toMatchObject({ code: 'invalid_parameter' });
      expect(local.json().error).toMatch(/sendAt.*zone/);
      const backwards = await send({ sendAt: new Date(now + 2 * HOUR).toISOString(), expiresAt: new Date(now + HOUR).toISOString() });
      expect(backwards.json()).toMatchObject({ code: 'invalid_parameter' });
      expect(backwards.json().error).toMatch(/expiresAt.*after sendAt/);
      const both = await send({ expiresAt: new Date(now + HOUR).toISOString(), ttl: 60 });
      expect(both.json().error).toMatch(/either expiresAt or ttl/);
    });

    it('cancels a scheduled message: status cancelled, its quota back, nothing sent when its time comes; a second cancel answers the same', async () => {
      const before = await usedToday();
      const res = await send({ text: 'never', sendAt: new Date(now + HOUR).toISOString() });
      const id = res.json().messageId as string;
      expect(await usedToday()).toBe(before + 1);
      const cancel = await t.inject({ method: 'DELETE', url: `/api/v1/messages/${id}`, headers: headers() });
      expect(cancel.statusCode).toBe(200);
      expect(cancel.json()).toEqual({ success: true, messageId: id, status: 'cancelled' });
      expect(await get(id)).toMatchObject({ status: 'cancelled', errorCode: 'cancelled' });
      expect(await usedToday()).toBe(before);
      const listed = (await t.inject({ method: 'GET', url: '/api/v1/messages?status=cancelled', headers: headers() })).json().messages as Array<{ messageId: string }>;
      expect(listed.map((m) => m.messageId)).toContain(id);
      now += 2 * HOUR;
      // A message accepted after it goes out once the dispatcher has passed the cancelled one's time.
      const marker = (await send({ text: 'marker' })).json();
      expect(marker.status).toBe('sent');
      expect((await records()).filter((r) => r.messageId === id)).toEqual([]);
      const again = await t.inject({ method: 'DELETE', url: `/api/v1/messages/${id}`, headers: headers() });
      expect(again.json()).toEqual({ success: true, messageId: id, status: 'cancelled' });
      expect(await t.runtime.store.db.selectFrom('outbox').select('seq').where('ref', '=', id).execute()).toEqual([]);
    });

    it('an unknown id is a 404 for a cancel too', async () => {
      const res = await t.inject({ method: 'DELETE', url: '/api/v1/messages/msg_nope', headers: headers() });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ success: false, code: 'not_found' });
    });
  });

  describe(`cancelling while the dispatcher sends (${dialect})`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp(dialect);
    });
    afterAll(() => t.close());

    it('a message is never both cancelled and on the network: each cancel either wins (nothing sent) or is refused / becomes a delete of the sent message', { timeout: 60_000 }, async () => {
      const { apiKey } = await t.createAccount('unlimited');
      const headers = { 'x-api-key': apiKey };
      const COUNT = 300;
      // Rounds until both outcomes were seen (the dispatcher's speed against the cancels varies with load).
      let cancelled = 0;
      let sent = 0;
      for (let round = 0; round < 6 && (cancelled === 0 || sent === 0); round++) {
        // All accepted first, then all cancelled at once while the dispatcher works through them.
        const ids = await Promise.all(
          Array.from({ length: COUNT }, async (_, i) => {
            const res = await t.inject({ method: 'POST', url: '/api/v1/send', headers, payload: { to: `4479${String(100_000 + i)}2${round}`, text: `race ${i}`, wait: 0 } });
            return res.json().messageId as string;
          }),
        );
        // The cancels start once the dispatcher has sent one (on a loaded machine it may not have begun yet).
        const anySent = async () => (await t.runtime.store.db.selectFrom('sandbox_sends').select('message_id').where('message_id', 'in', ids).limit(1).execute()).length;
        await expect.poll(anySent, { timeout: 30_000 }).toBe(1);
        // Newest first and spread over a moment: the dispatcher works from the oldest, so the two meet in the middle.
        const answers = await Promise.all(
          [...ids].reverse().map(async (id, n) => {
            await new Promise((resolve) => setTimeout(resolve, Math.floor(n / 3)));
            const cancel = await t.inject({ method: 'DELETE', url: `/api/v1/messages/${id}?wait=0`, headers });
            return { id, code: cancel.statusCode, body: cancel.json() };
          }),
        );
        const settled = async () =>
          (await t.runtime.store.db.selectFrom('messages').select(['id', 'status']).where('id', 'in', ids).execute()).filter((r) => r.status === 'pending' || r.status === 'scheduled').length;
        await expect.poll(settled, { timeout: 30_000 }).toBe(0);
        const rows = new Map((await t.runtime.store.db.selectFrom('messages').select(['id', 'status']).where('id', 'in', ids).execute()).map((r) => [r.id, r.status]));
        const network = await t.runtime.store.db.selectFrom('sandbox_sends').select('message_id').where('message_id', 'in', ids).execute();
        const onNetwork = new Map<string, number>();
        for (const r of network) onNetwork.set(r.message_id, (onNetwork.get(r.message_id) ?? 0) + 1);
        for (const a of answers) {
          if (a.code === 200 && a.body.status === 'cancelled') {
            cancelled += 1;
            expect(rows.get(a.id)).toBe('cancelled');
            expect(onNetwork.get(a.id)).toBeUndefined();
          } else {
            // Refused while in hand (409 conflict), or already sent, so the DELETE became a delete for everyone.
            sent += 1;
            expect([200, 409]).toContain(a.code);
            expect(rows.get(a.id)).toBe('sent');
            expect(onNetwork.get(a.id)).toBe(1);
          }
        }
      }
      expect(cancelled).toBeGreaterThan(0);
      expect(sent).toBeGreaterThan(0);
      console.log(`cancel race: ${cancelled} cancelled, ${sent} sent (or refused while in hand)`);
    });
  });
}
