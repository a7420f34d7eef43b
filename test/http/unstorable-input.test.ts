import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/** A NUL character or an unpaired surrogate anywhere in the input: the same 400 on both databases (PostgreSQL cannot store either). */
for (const dialect of testDialects()) {
  describe(`unstorable input (${dialect})`, () => {
    let t: TestApp;
    let key: string;

    beforeAll(async () => {
      t = await startTestApp(dialect);
      key = (await t.createAccount('unlimited')).apiKey;
    });
    afterAll(async () => {
      await t.close();
    });

    function expectRefused(res: { statusCode: number; json(): any; body: string }, field: string) {
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json()).toEqual({ success: false, code: 'invalid_parameter', error: expect.stringContaining(`Invalid parameter: ${field} contains a character that cannot be stored`) });
    }
    const json = (method: 'POST' | 'PATCH', url: string, body: string, headers: Record<string, string> = {}) =>
      t.inject({ method, url, headers: { 'x-api-key': key, 'content-type': 'application/json', ...headers }, payload: body });

    it('refuses a NUL or a lone surrogate in a JSON body, naming the field', async () => {
      expectRefused(await json('POST', '/api/v1/send', '{"recipient":"12125551234","text":"a\\u0000b"}'), 'text');
      expectRefused(await json('POST', '/api/v1/send', '{"recipient":"12125551234","text":"half a pair \\ud83d"}'), 'text');
      expectRefused(await json('POST', '/api/v1/send', '{"recipient":"12125551234","text":"\\udc00 first"}'), 'text');
      expectRefused(await json('POST', '/api/v1/send/document', '{"recipient":"12125551234","document":"https://example.com/a.pdf","filename":"a\\u0000.pdf"}'), 'filename');
      expectRefused(await json('PATCH', '/api/v1/settings', '{"webhookUrl":"https://example.com/\\u0000"}'), 'webhookUrl');
      // Unauthenticated routes too: the e-mail of a sign-in.
      expectRefused(await t.inject({ method: 'POST', url: '/auth/login', payload: { email: 'a\u0000@example.com', password: 'whatever-password' } }), 'email');
      // A key that is not a field at all is shown escaped.
      expectRefused(await json('POST', '/api/v1/send', '{"recipient":"12125551234","text":"hi","x\\u0000":1}'), 'x\\u0000');
    });

    it('refuses them in query strings, form fields, path ids and the Idempotency-Key header', async () => {
      expectRefused(await t.inject({ method: 'GET', url: `/send.php?apikey=${key}&recipient=12125551234&text=a%00b` }), 'text');
      expectRefused(await t.inject({ method: 'GET', url: '/api/v1/messages?cursor=%00', headers: { 'x-api-key': key } }), 'cursor');
      expectRefused(
        await t.inject({ method: 'POST', url: '/send.php', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `apikey=${key}&recipient=12125551234&text=hi%00` }),
        'text',
      );
      expectRefused(await t.inject({ method: 'GET', url: '/api/v1/messages/msg%00abc', headers: { 'x-api-key': key } }), 'id');
      expectRefused(await t.inject({ method: 'POST', url: '/api/v1/webhooks/deliveries/whd_%00/redeliver', headers: { 'x-api-key': key } }), 'id');
      expectRefused(await json('POST', '/api/v1/send', '{"recipient":"12125551234","text":"hi"}', { 'idempotency-key': 'k\u0000' }), 'idempotency-key');
    });

    it('refuses an infinite number (JSON 1e309, a query "Infinity") instead of passing it to the database', async () => {
      for (const url of ['/api/v1/messages?limit=Infinity', '/api/v1/messages?limit=1e309', '/api/v1/webhooks/deliveries?limit=1e309']) {
        const res = await t.inject({ method: 'GET', url, headers: { 'x-api-key': key } });
        expect(res.statusCode, `${url}: ${res.body}`).toBe(400);
        expect(res.json()).toMatchObject({ code: 'invalid_parameter', error: 'Invalid parameter: limit must be a finite number.' });
      }
      const body = await json('POST', '/api/v1/send', '{"recipient":"12125551234","text":"hi","wait":1e309}');
      expect(body.statusCode, body.body).toBe(400);
      expect(body.json()).toMatchObject({ code: 'invalid_parameter', error: 'Invalid parameter: wait must be a finite number.' });
    });

    it('accepts the same text without the bad character, and paired surrogates (emoji) as they are', async () => {
      const res = await json('POST', '/api/v1/send', '{"recipient":"12125551234","text":"ok \\ud83d\\ude00","wait":0}');
      expect(res.statusCode, res.body).toBe(200);
      const read = await t.inject({ method: 'GET', url: '/api/v1/messages?limit=1', headers: { 'x-api-key': key } });
      expect(read.statusCode).toBe(200);
      const form = await t.inject({ method: 'GET', url: `/send.php?apikey=${key}&recipient=12125551234&text=${encodeURIComponent('naïve 😀')}&wait=0` });
      expect(form.statusCode, form.body).toBe(200);
    });
  });
}
