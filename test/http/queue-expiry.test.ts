import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const HOUR = 3_600_000;

for (const dialect of testDialects()) {
  describe(`expiry through a day-long outage, on a fake clock (${dialect})`, () => {
    let t: TestApp;
    let key: string;
    let now = Date.UTC(2026, 10, 30, 8, 0, 0);

    beforeAll(async () => {
      t = await startTestApp(dialect, { clock: () => now });
      key = (await t.createAccount('unlimited')).apiKey;
    });
    afterAll(() => t.close());

    const headers = () => ({ 'x-api-key': key });
    const send = async (payload: Record<string, unknown>) => {
      const res = await t.inject({ method: 'POST', url: '/api/v1/send', headers: headers(), payload: { to: '12125551234', text: 'hi', wait: 0, ...payload } });
      expect(res.statusCode, res.body).toBe(200);
      return res.json() as { messageId: string; status: string };
    };
    const get = async (id: string) => (await t.inject({ method: 'GET', url: `/api/v1/messages/${id}`, headers: headers() })).json();
    const onNetwork = async (ids: string[]) => (await t.runtime.store.db.selectFrom('sandbox_sends').select('message_id').where('message_id', 'in', ids).execute()).map((r) => r.message_id);
    /** Moves the fake clock and lets the dispatcher look at what became due. */
    const advance = async (ms: number) => {
      now += ms;
      t.runtime.dispatcher.kick();
    };

    it('expiresAt and ttl fail a held message with expired; SEND_EXPIRY_DEFAULT (24 h) fails the rest of a long outage; what is fresh still goes after the reconnect', { timeout: 60_000 }, async () => {
      const start = now;
      // All due one hour from now; the session drops before then and stays down for a day.
      const at = (h: number) => new Date(start + h * HOUR).toISOString();
      const withExpiry = await send({ text: 'valid 2 h', sendAt: at(1), expiresAt: at(3) });
      const withTtl = await send({ text: 'ttl 1 h', sendAt: at(1), ttl: 3600 });
      const plain = await send({ text: 'default expiry', sendAt: at(1) });
      const late = await send({ text: 'due near the end of the outage', sendAt: at(20) });
      for (const m of [withExpiry, withTtl, plain, late]) expect(m.status).toBe('scheduled');
      const ids = [withExpiry, withTtl, plain, late].map((m) => m.messageId);

      now += HOUR / 2;
      expect((await t.inject({ method: 'POST', url: '/api/v1/sandbox/disconnect', headers: headers(), payload: { reason: 'connection_lost' } })).statusCode).toBe(200);
      await advance(HOUR); // 1.5 h: all but `late` are due and held
      await expect.poll(async () => (await get(plain.messageId)).status, { timeout: 10_000 }).toBe('pending');
      await advance(2 * HOUR); // 3.5 h: past the ttl and the expiresAt
      await expect.poll(async () => (await get(withTtl.messageId)).status, { timeout: 10_000 }).toBe('failed');
      await expect.poll(async () => (await get(withExpiry.messageId)).status, { timeout: 10_000 }).toBe('failed');
      expect(await get(withTtl.messageId)).toMatchObject({ errorCode: 'expired', error: expect.stringMatching(/expired .* before it could be sent/) });
      expect(await get(withExpiry.messageId)).toMatchObject({ errorCode: 'expired', expiresAt: at(3) });
      expect((await get(plain.messageId)).status).toBe('pending');

      await advance(21 * HOUR + HOUR / 2 + 60_000); // 25 h and a minute: `plain` was held over 24 h since it was due
      await expect.poll(async () => (await get(plain.messageId)).status, { timeout: 10_000 }).toBe('failed');
      expect(await get(plain.messageId)).toMatchObject({ errorCode: 'expired', error: expect.stringMatching(/SEND_EXPIRY_DEFAULT/) });
      expect((await get(late.messageId)).status).toBe('pending'); // held only 5 h

      expect((await t.inject({ method: 'POST', url: '/api/v1/session/link', headers: headers() })).statusCode).toBe(200);
      await advance(10_000);
      await expect.poll(async () => (await get(late.messageId)).status, { timeout: 10_000 }).toBe('sent');
      expect(await onNetwork(ids)).toEqual([late.messageId]); // nothing stale went out
    });
  });
}
