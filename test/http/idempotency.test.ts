import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const DAY = 24 * 60 * 60 * 1000;

/** An Idempotency-Key names one request: the same request replays, another one is a 422 (as Stripe does). */
for (const dialect of testDialects()) {
  describe(`Idempotency-Key bound to its request (${dialect})`, () => {
    let t: TestApp;
    const clock = { now: Date.now() };

    beforeAll(async () => {
      t = await startTestApp(dialect, { clock: () => clock.now });
    });
    afterAll(() => t.close());

    const send = (apiKey: string, idempotencyKey: string, payload: string, url = '/api/v1/send') =>
      t.inject({ method: 'POST', url, headers: { 'x-api-key': apiKey, 'idempotency-key': idempotencyKey, 'content-type': 'application/json' }, payload });
    const sentTo = async (recipient: string) => (await t.runtime.store.db.selectFrom('sandbox_sends').select('recipient').where('recipient', '=', recipient).execute()).length;

    it('replays the same request (fields in any order, another wait) and refuses another body with 422 idempotency_key_reused', async () => {
      const { apiKey } = await t.createAccount('unlimited');
      const first = await send(apiKey, 'order-1', '{"recipient":"12125550101","text":"once"}');
      expect(first.statusCode, first.body).toBe(200);
      const same = await send(apiKey, 'order-1', '{"wait":0,"text":"once","recipient":"12125550101"}');
      expect(same.statusCode, same.body).toBe(200);
      expect(same.json().messageId).toBe(first.json().messageId);
      expect(same.headers['idempotent-replayed']).toBe('true');

      const other = await send(apiKey, 'order-1', '{"recipient":"12125550101","text":"twice?"}');
      expect(other.statusCode, other.body).toBe(422);
      expect(other.json()).toEqual({ success: false, code: 'idempotency_key_reused', error: expect.stringMatching(/different request/) });
      expect(other.headers['idempotent-replayed']).toBeUndefined();
      // Another endpoint with the same key is another request too.
      const image = await send(apiKey, 'order-1', '{"recipient":"12125550101","file":"https://example.com/a.png","text":"once"}', '/api/v1/send/image');
      expect(image.statusCode, image.body).toBe(422);
      expect(await sentTo('12125550101')).toBe(1);
    });

    it('binds a key per account and for 24 hours', async () => {
      const a = await t.createAccount('unlimited');
      const b = await t.createAccount('unlimited');
      expect((await send(a.apiKey, 'shared', '{"recipient":"12125550202","text":"from a"}')).statusCode).toBe(200);
      const fromB = await send(b.apiKey, 'shared', '{"recipient":"12125550202","text":"from b"}');
      expect(fromB.statusCode, fromB.body).toBe(200);
      expect(fromB.headers['idempotent-replayed']).toBeUndefined();
      clock.now += DAY + 1000;
      const later = await send(a.apiKey, 'shared', '{"recipient":"12125550202","text":"a day later"}');
      expect(later.statusCode, later.body).toBe(200);
      expect(later.headers['idempotent-replayed']).toBeUndefined();
      // ...and the key is bound to the new request from then on.
      expect((await send(a.apiKey, 'shared', '{"recipient":"12125550202","text":"from a"}')).statusCode).toBe(422);
      expect(await sentTo('12125550202')).toBe(3);
    });

    it('binds /send.php form and query fields the same way (the apikey field is not part of the request)', async () => {
      const { apiKey } = await t.createAccount('unlimited');
      const post = (body: string) =>
        t.inject({ method: 'POST', url: `/send.php?apikey=${apiKey}`, headers: { 'content-type': 'application/x-www-form-urlencoded', 'idempotency-key': 'form-1' }, payload: body });
      const first = await post('recipient=12125550303&text=hello');
      expect(first.statusCode, first.body).toBe(200);
      const again = await post('text=hello&recipient=12125550303&wait=0');
      expect(again.json().messageId).toBe(first.json().messageId);
      expect((await post('recipient=12125550303&text=bye')).statusCode).toBe(422);
    });
  });
}
