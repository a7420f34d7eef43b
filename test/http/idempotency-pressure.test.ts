import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneExpired } from '../../src/core/housekeeping.js';
import { testDialects } from '../helpers/databases.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { startServer, tinyPdf, tinyPng, type TestServer } from '../media/fixtures.js';

const HOUR = 60 * 60 * 1000;
const CONCURRENT = 8;

/**
 * SPEC §4: within 24 h the same Idempotency-Key from the same account returns the first request's
 * answer and sends nothing new. Every request here repeats the first one's body exactly.
 */
for (const dialect of testDialects()) {
  describe(`Idempotency-Key under pressure (${dialect})`, () => {
    let t: TestApp;
    let media: TestServer;
    const clock = { now: Date.now() };

    beforeAll(async () => {
      media = await startServer((req, res) => {
        const pdf = req.url?.endsWith('.pdf');
        res.writeHead(200, { 'content-type': pdf ? 'application/pdf' : 'image/png' });
        res.end(pdf ? tinyPdf() : tinyPng());
      });
      t = await startTestApp(dialect, { env: { ALLOW_PRIVATE_URLS: 'true' }, clock: () => clock.now });
    });
    afterAll(async () => {
      await t.close();
      await media.close();
    });

    const messagesOf = async (accountId: string) =>
      (await t.runtime.store.db.selectFrom('messages').select('id').where('account_id', '=', accountId).execute()).map((r) => r.id);

    const routes = [
      { name: 'POST /api/v1/send', url: '/api/v1/send', form: false, body: { recipient: '12125551234', text: 'once' } },
      { name: 'POST /api/v1/send/image', url: '/api/v1/send/image', form: false, body: { recipient: '12125551234', file: 'MEDIA/a.png', caption: 'once' } },
      { name: 'POST /api/v1/send/document', url: '/api/v1/send/document', form: false, body: { recipient: '12125551234', document: 'MEDIA/a.pdf', filename: 'a.pdf' } },
      { name: 'POST /send.php', url: '/send.php', form: true, body: { recipient: '12125551234', text: 'once' } },
    ] as const;

    for (const route of routes) {
      it(`${route.name}: ${CONCURRENT} concurrent requests with one key create one message, sent once`, async () => {
        const { id, apiKey } = await t.createAccount('unlimited');
        const fields = Object.fromEntries(Object.entries(route.body).map(([k, v]) => [k, v.replace('MEDIA', media.origin)]));
        const headers = { 'x-api-key': apiKey, 'idempotency-key': `order-${route.url}` };
        const request = () =>
          route.form
            ? t.inject({ method: 'POST', url: route.url, headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ ...fields, wait: '0' }).toString() })
            : t.inject({ method: 'POST', url: route.url, headers, payload: { ...fields, wait: 0 } });
        const answers = await Promise.all(Array.from({ length: CONCURRENT }, request));
        for (const answer of answers) expect(answer.statusCode, answer.body).toBe(200);
        const ids = new Set(answers.map((a) => a.json().messageId));
        expect(ids.size).toBe(1);
        expect(answers.filter((a) => a.headers['idempotent-replayed'] === 'true')).toHaveLength(CONCURRENT - 1);
        expect(await messagesOf(id)).toEqual([...ids]);
        await expect
          .poll(async () => (await t.runtime.store.db.selectFrom('sandbox_sends').select('message_id').where('account_id', '=', id).execute()).map((r) => r.message_id), { timeout: 10_000 })
          .toEqual([...ids]);
      });
    }

    it('answers a replay after the message failed with the failure, and sends nothing new', async () => {
      const { id, apiKey } = await t.createAccount('unlimited');
      const send = () => t.inject({ method: 'POST', url: '/api/v1/send', headers: { 'x-api-key': apiKey, 'idempotency-key': 'to-nobody' }, payload: { recipient: '12125550000', text: 'nobody' } });
      const first = await send();
      expect(first.statusCode).toBe(400);
      expect(first.json()).toMatchObject({ success: false, code: 'send_failed', messageId: expect.any(String) });
      const again = await send();
      expect(again.statusCode).toBe(400);
      expect(again.json()).toEqual(first.json());
      expect(await messagesOf(id)).toEqual([first.json().messageId]);
    });

    it('forgets a key after 24 hours, and housekeeping prunes only expired keys and usage outside the window', async () => {
      const { id, apiKey } = await t.createAccount('unlimited');
      const send = (key: string) => t.inject({ method: 'POST', url: '/api/v1/send', headers: { 'x-api-key': apiKey, 'idempotency-key': key }, payload: { recipient: '12125551234', text: 'daily report', wait: 0 } });
      const db = t.runtime.store.db;
      const keys = async () => (await db.selectFrom('idempotency_keys').select('key').where('account_id', '=', id).orderBy('key').execute()).map((r) => r.key);
      const counted = async () => Number((await db.selectFrom('usage_minutes').select((eb) => eb.fn.sum('count').as('n')).where('account_id', '=', id).executeTakeFirstOrThrow()).n ?? 0);
      const start = clock.now;
      try {
        const first = (await send('report')).json().messageId;
        const old = (await send('old')).json().messageId;
        clock.now = start + 24 * HOUR - 1;
        expect((await send('report')).json()).toMatchObject({ messageId: first });
        const fresh = (await send('fresh')).json().messageId;
        clock.now = start + 24 * HOUR;
        const second = (await send('report')).json().messageId;
        expect(second).not.toBe(first);
        expect((await messagesOf(id)).sort()).toEqual([first, old, fresh, second].sort());

        expect(await keys()).toEqual(['fresh', 'old', 'report']);
        await pruneExpired(t.runtime.store, clock.now);
        expect(await keys()).toEqual(['fresh', 'report']);
        expect((await send('fresh')).json().messageId).toBe(fresh);

        // Two hours on, the minute of the first two sends has left the rolling window.
        expect(await counted()).toBe(4);
        clock.now = start + 26 * HOUR;
        await pruneExpired(t.runtime.store, clock.now);
        expect(await counted()).toBe(2);
        expect(await keys()).toEqual(['fresh', 'report']);
      } finally {
        clock.now = Math.max(clock.now, Date.now());
      }
    });
  });
}
