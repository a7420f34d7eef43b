import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { revokeApiKey } from '../../src/core/api-keys.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { testDialects } from '../helpers/databases.js';

function expectError(res: { statusCode: number; json(): any }, status: number, code: string, mentions?: RegExp) {
  expect(res.statusCode, JSON.stringify(res.json())).toBe(status);
  const body = res.json();
  expect(body).toMatchObject({ success: false, code, error: expect.any(String) });
  if (mentions) expect(body.error).toMatch(mentions);
  return body;
}

for (const dialect of testDialects()) {
  describe(`errors (${dialect})`, () => {
    let t: TestApp;
    let key: string;
    let htmlServer: http.Server;
    let htmlUrl: string;

    beforeAll(async () => {
      t = await startTestApp(dialect, { env: { ALLOW_PRIVATE_URLS: 'false' } });
      key = (await t.createAccount('unlimited')).apiKey;
      htmlServer = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end('<html>not an image</html>'));
      await new Promise<void>((r) => htmlServer.listen(0, '127.0.0.1', r));
      htmlUrl = `http://127.0.0.1:${(htmlServer.address() as AddressInfo).port}/photo.png`;
    });
    afterAll(async () => {
      htmlServer.close();
      await t.close();
    });

    const get = (url: string, headers: Record<string, string> = {}) => t.inject({ method: 'GET', url, headers });
    const post = (url: string, payload: unknown, headers: Record<string, string> = { 'x-api-key': key }) => t.inject({ method: 'POST', url, headers, payload: payload as never });

    it('says where the API key goes: apikey= on /send.php, the header only where the query is not read', async () => {
      expectError(await t.inject({ method: 'GET', url: '/send.php?recipient=12125551234&text=hi' }), 401, 'invalid_api_key', /apikey=/);
      const inQuery = expectError(await t.inject({ method: 'GET', url: `/api/v1/messages?apikey=${key}` }), 401, 'invalid_api_key', /only in the X-API-Key header, not as \?apikey=/);
      expect(inQuery.error).not.toMatch(/Missing/);
      const postInQuery = await t.inject({ method: 'POST', url: `/api/v1/send?apikey=${key}`, payload: { recipient: '12125551234', text: 'hi' } });
      expectError(postInQuery, 401, 'invalid_api_key', /only in the X-API-Key header/);
      expectError(await t.inject({ method: 'GET', url: '/api/v1/messages' }), 401, 'invalid_api_key', /^Missing API key: send it in the X-API-Key header\.$/);
      expect((await t.inject({ method: 'GET', url: `/api/v1/status?apikey=${key}` })).statusCode).toBe(200);
    });

    it('400 missing_parameter names the parameter', async () => {
      expectError(await get(`/send.php?apikey=${key}&text=hi`), 400, 'missing_parameter', /recipient/);
      expectError(await get(`/send.php?apikey=${key}&recipient=12125551234`), 400, 'missing_parameter', /text/);
      expectError(await post('/api/v1/send', { recipient: '12125551234' }), 400, 'missing_parameter', /text/);
      expectError(await post('/api/v1/send/image', { to: '12125551234' }), 400, 'missing_parameter', /file/);
      expectError(await post('/api/v1/send/document', { to: '12125551234' }), 400, 'missing_parameter', /document/);
      const exact = expectError(await get(`/send.php?apikey=${key}&text=x`), 400, 'missing_parameter');
      expect(exact.error).toBe('Missing required parameter: recipient');
    });

    it('400 for a schema failure names where in the body it is and what the value must be', async () => {
      const exactly = async (url: string, body: unknown, code: string, error: string) => expect(expectError(await post(url, body), 400, code).error).toBe(error);
      await exactly('/api/v1/send/contact', { to: '12125551234', contacts: [{ phones: ['12125550000'] }] }, 'missing_parameter', 'Missing required parameter: contacts[0].name');
      await exactly('/api/v1/send/contact', { to: '12125551234', contacts: [{ name: 'Ann', phones: [] }] }, 'invalid_parameter', 'Invalid parameter: contacts[0].phones must have at least 1 entry.');
      await exactly('/api/v1/send/contact', { to: '12125551234', contacts: 'Ann' }, 'invalid_parameter', 'Invalid parameter: contacts[0] must be an object.');
      await exactly('/api/v1/send/poll', { to: '12125551234', question: 'Lunch?', options: ['Pizza'] }, 'invalid_parameter', 'Invalid parameter: options must have at least 2 entries.');
      const thirteen = Array.from({ length: 13 }, (_, i) => `option ${i}`);
      await exactly('/api/v1/send/poll', { to: '12125551234', question: 'Lunch?', options: thirteen }, 'invalid_parameter', 'Invalid parameter: options must have at most 12 entries.');
      await exactly('/api/v1/send/poll', { to: '12125551234', question: 'Lunch?', options: ['Pizza', ''] }, 'invalid_parameter', 'Invalid parameter: options[1] must not be empty.');
      await exactly('/api/v1/send', { to: '12125551234', text: 'x', priority: 'urgent' }, 'invalid_parameter', 'Invalid parameter: priority must be one of high, normal, low.');
      await exactly('/api/v1/send/location', { to: '12125551234', latitude: 'north', longitude: 2 }, 'invalid_parameter', 'Invalid parameter: latitude must be a number.');
      await exactly('/api/v1/send/poll', { to: '12125551234', question: 'Lunch?', options: ['a', 'b'], multipleAnswers: 'maybe' }, 'invalid_parameter', 'Invalid parameter: multipleAnswers must be true or false.');
      // A union: what each branch allows together, or the rule the value's own branch broke.
      const settings = (body: unknown) => t.inject({ method: 'PATCH', url: '/api/v1/settings', headers: { 'x-api-key': key }, payload: body as never });
      expect(expectError(await settings({ webhookUrl: {} }), 400, 'invalid_parameter').error).toBe('Invalid parameter: webhookUrl must be null or a string.');
      expect(expectError(await settings({ webhookUrl: `https://example.com/${'a'.repeat(2048)}` }), 400, 'invalid_parameter').error).toBe('Invalid parameter: webhookUrl must be at most 2048 characters long.');
      const twice = expectError(await get(`/send.php?apikey=${key}&recipient=12125551234&text=Hello&text=again`), 400, 'invalid_parameter');
      expect(twice.error).toBe('Invalid parameter: text was given more than once; give it once.');
    });

    it('a route that takes no body answers an empty body sent as JSON as it answers none; one that takes a body still says it is empty', async () => {
      // Its own account: logout and link act on the session the other tests send from.
      const own = (await t.createAccount('unlimited')).apiKey;
      const doc = (await get('/openapi.json')).json();
      const bodyless: Array<[string, string]> = [];
      for (const [path, operations] of Object.entries<Record<string, { requestBody?: unknown }>>(doc.paths)) {
        for (const [method, operation] of Object.entries(operations)) {
          if (['post', 'patch', 'delete'].includes(method) && !operation.requestBody && path.startsWith('/api/v1/')) bodyless.push([method.toUpperCase(), path.replace(/\{[^}]+\}/g, 'x')]);
        }
      }
      expect(bodyless.map(([m, p]) => `${m} ${p}`)).toEqual(expect.arrayContaining(['DELETE /api/v1/messages/x', 'POST /api/v1/session/logout', 'POST /api/v1/webhooks/test']));
      for (const [method, url] of bodyless) {
        const asJson = await t.inject({ method: method as 'POST', url, headers: { 'x-api-key': own, 'content-type': 'application/json' }, payload: '' });
        const without = await t.inject({ method: method as 'POST', url, headers: { 'x-api-key': own } });
        expect(asJson.statusCode, `${method} ${url}: ${asJson.body}`).toBeLessThan(500);
        expect(asJson.json().error ?? '', `${method} ${url}`).not.toMatch(/body is empty/);
        expect([asJson.statusCode, asJson.json().code], `${method} ${url}`).toEqual([without.statusCode, without.json().code]);
      }
      const empty = expectError(await t.inject({ method: 'POST', url: '/api/v1/send', headers: { 'x-api-key': own, 'content-type': 'application/json' }, payload: '' }), 400, 'missing_parameter');
      expect(empty.error).toBe('The request body is empty: send a JSON object.');
    });

    it('400 invalid_recipient for numbers that are not phone numbers or group ids', async () => {
      for (const bad of ['abc', '12345', '1234567890123456', '+', '12-ab-34', 'foo@g.us']) {
        expectError(await post('/api/v1/send', { recipient: bad, text: 'x' }), 400, 'invalid_recipient', /recipient/i);
      }
    });

    it('400 invalid_url for unsafe or malformed media URLs', async () => {
      for (const url of ['ftp://example.com/a.png', 'not a url', 'http://127.0.0.1/a.png', 'http://[::1]/a.png', 'http://2130706433/a.png', 'http://user:pw@example.com/a.png']) {
        expectError(await post('/api/v1/send/image', { to: '12125551234', file: url }), 400, 'invalid_url');
      }
      expectError(await get(`/send.php?apikey=${key}&recipient=12125551234&document=${encodeURIComponent('http://10.0.0.1/x.pdf')}`), 400, 'invalid_url');
    });

    it('400 invalid_parameter for file and document together, bad wait, cursor, limit, status', async () => {
      expectError(await get(`/send.php?apikey=${key}&recipient=12125551234&file=https://example.com/a.png&document=https://example.com/a.pdf`), 400, 'invalid_parameter', /file.*document/);
      expectError(await post('/api/v1/send', { recipient: '12125551234', text: 'x', wait: -1 }), 400, 'invalid_parameter', /wait/);
      expectError(await post('/api/v1/send', { recipient: '12125551234', text: 'x', wait: 'soon' }), 400, 'invalid_parameter', /wait/);
      expectError(await post('/api/v1/send', { recipient: '12125551234', text: 'x', wait: 10_000_000 }), 400, 'invalid_parameter', /wait/);
      expectError(await get('/api/v1/messages?cursor=bogus', { 'x-api-key': key }), 400, 'invalid_parameter', /cursor/);
      expectError(await get('/api/v1/messages?limit=0', { 'x-api-key': key }), 400, 'invalid_parameter', /limit/);
      expectError(await get('/api/v1/messages?limit=1001', { 'x-api-key': key }), 400, 'invalid_parameter', /limit/);
      expectError(await get('/api/v1/messages?status=lost', { 'x-api-key': key }), 400, 'invalid_parameter', /status/);
    });

    it('400 not_connected when the account has logged out, until it links again', async () => {
      const { apiKey } = await t.createAccount('trial');
      expect((await post('/api/v1/session/logout', undefined, { 'x-api-key': apiKey })).statusCode).toBe(200);
      expectError(await post('/api/v1/send', { recipient: '12125551234', text: 'x' }, { 'x-api-key': apiKey }), 400, 'not_connected', /link/i);
      const status = (await get('/api/v1/status', { 'x-api-key': apiKey })).json();
      expect(status).toMatchObject({ connected: false, phone: null, state: 'unlinked' });
      expect((await post('/api/v1/session/link', undefined, { 'x-api-key': apiKey })).json()).toMatchObject({ state: 'connected' });
      expect((await post('/api/v1/send', { recipient: '12125551234', text: 'x' }, { 'x-api-key': apiKey })).statusCode).toBe(200);
    });

    it('400 send_failed with messageId when the media is not what it claims (HTML served as image/png)', async () => {
      const lenient = await startTestApp(dialect, { env: { ALLOW_PRIVATE_URLS: 'true' } });
      try {
        const { apiKey } = await lenient.createAccount('trial');
        const res = await lenient.inject({ method: 'POST', url: '/api/v1/send/image', headers: { 'x-api-key': apiKey }, payload: { to: '12125551234', image: htmlUrl, caption: 'pic' } });
        const body = expectError(res, 400, 'send_failed');
        expect(body.messageId).toEqual(expect.any(String));
        const stored = (await lenient.inject({ method: 'GET', url: `/api/v1/messages/${body.messageId}`, headers: { 'x-api-key': apiKey } })).json();
        expect(stored).toMatchObject({ status: 'failed', type: 'image' });
      } finally {
        await lenient.close();
      }
    });

    it('401 invalid_api_key for missing, malformed and unknown keys', async () => {
      expectError(await post('/api/v1/send', { recipient: '12125551234', text: 'x' }, {}), 401, 'invalid_api_key', /missing/i);
      expectError(await post('/api/v1/send', { recipient: '12125551234', text: 'x' }, { 'x-api-key': 'hello' }), 401, 'invalid_api_key');
      expectError(await post('/api/v1/send', { recipient: '12125551234', text: 'x' }, { 'x-api-key': `msg_${'a'.repeat(40)}` }), 401, 'invalid_api_key');
      // the REST API does not take the key from the query
      expectError(await get(`/api/v1/messages?apikey=${key}`), 401, 'invalid_api_key');
    });

    it('401 for a revoked key through the HTTP surface', async () => {
      const { id, apiKey } = await t.createAccount('trial');
      expect((await get('/api/v1/status', { 'x-api-key': apiKey })).statusCode).toBe(200);
      const [row] = await t.runtime.store.db.selectFrom('api_keys').select('id').where('account_id', '=', id).execute();
      await revokeApiKey(t.runtime.store, row!.id, Date.now());
      expectError(await get('/api/v1/status', { 'x-api-key': apiKey }), 401, 'invalid_api_key', /revoked/);
    });

    it("404 for an unknown message id and for another account's message (never 403)", async () => {
      const other = await t.createAccount('trial');
      const sent = (await post('/api/v1/send', { recipient: '12125551234', text: 'mine' }, { 'x-api-key': other.apiKey })).json();
      expectError(await get(`/api/v1/messages/${sent.messageId}`, { 'x-api-key': key }), 404, 'not_found');
      expectError(await get('/api/v1/messages/00000000-0000-0000-0000-000000000000', { 'x-api-key': key }), 404, 'not_found');
      const list = (await get('/api/v1/messages?limit=1000', { 'x-api-key': key })).json();
      expect(list.messages.map((m: { messageId: string }) => m.messageId)).not.toContain(sent.messageId);
    });

    it('413 payload_too_large and 415 unsupported_media_type', async () => {
      expectError(await post('/api/v1/send', { recipient: '12125551234', text: 'x'.repeat(2 * 1024 * 1024) }), 413, 'payload_too_large');
      expectError(await t.inject({ method: 'POST', url: '/api/v1/send', headers: { 'x-api-key': key, 'content-type': 'text/plain' }, payload: 'recipient=1&text=2' }), 415, 'unsupported_media_type');
      expectError(await t.inject({ method: 'POST', url: '/api/v1/send', headers: { 'x-api-key': key, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'recipient=12125551234&text=2' }), 415, 'unsupported_media_type');
    });

    it('answers unknown paths with the JSON error shape', async () => {
      expectError(await get('/api/v1/nope'), 404, 'not_found');
    });

    it('never answers 5xx or crashes on malformed input', async () => {
      const bodies: Array<{ type: string; payload: string | Buffer }> = [
        { type: 'application/json', payload: '{"recipient": "12125551234", "text": ' },
        { type: 'application/json', payload: '' },
        { type: 'application/json', payload: 'null' },
        { type: 'application/json', payload: '[]' },
        { type: 'application/json', payload: '"just a string"' },
        { type: 'application/json', payload: '123' },
        { type: 'application/json', payload: '{"recipient": ["12125551234", "12125551235"], "text": "x"}' },
        { type: 'application/json', payload: '{"recipient": {"a": 1}, "text": "x"}' },
        { type: 'application/json', payload: '{"recipient": null, "text": null}' },
        { type: 'application/json', payload: '{"recipient": 12125551234, "text": true}' },
        { type: 'application/json', payload: '{"__proto__": {"admin": true}, "recipient": "12125551234", "text": "x"}' },
        { type: 'application/json', payload: '{"constructor": {"prototype": {"x": 1}}, "recipient": "12125551234", "text": "x"}' },
        { type: 'application/json', payload: Buffer.from([0x7b, 0x22, 0x74, 0x65, 0x78, 0x74, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x7d]) },
        { type: 'application/json; charset=latin1', payload: '{"recipient":"12125551234","text":"x"}' },
        { type: 'application/json', payload: `{"recipient":"12125551234","text":"${'\\ud800'.repeat(3)}"}` },
        { type: 'application/json', payload: '{'.repeat(10_000) },
        { type: 'multipart/form-data; boundary=x', payload: '--x\r\n\r\n--x--' },
      ];
      for (const { type, payload } of bodies) {
        for (const url of ['/api/v1/send', '/api/v1/send/image', '/api/v1/send/document', '/send.php', '/api/v1/session/pair', '/api/v1/sandbox/incoming']) {
          const res = await t.inject({ method: 'POST', url, headers: { 'x-api-key': key, 'content-type': type }, payload });
          expect(res.statusCode, `${url} ${type} ${String(payload).slice(0, 40)} → ${res.body}`).toBeLessThan(500);
          const body = res.json();
          expect(typeof body.success).toBe('boolean');
          if (!body.success) expect(body).toMatchObject({ code: expect.any(String), error: expect.any(String) });
        }
      }
      const queries = [
        '/send.php?recipient=%E0%A4%A&apikey=%&text=%ZZ',
        `/send.php?recipient=12125551234&recipient=12125551235&apikey=${key}&text=x`,
        `/send.php?recipient=12125551234&apikey=${key}&apikey=${key}&text=x`,
        `/send.php?recipient[]=12125551234&apikey=${key}&text=x`,
        `/send.php?recipient=12125551234&apikey=${key}&text=%F0%9F%98%80%ED%A0%80`,
        `/send.php?recipient=12125551234&apikey=${key}&text=${'x'.repeat(70_000)}`,
        `/send.php?recipient=12125551234&apikey=${key}&text=x&wait=abc`,
        `/api/v1/messages/${'%'.repeat(10)}`,
        `/api/v1/messages/..%2F..%2Fetc%2Fpasswd`,
        '/api/v1/status?apikey[]=x',
        `/api/v1/messages?limit=1&limit=2`,
        `/api/v1/messages?cursor=${'A'.repeat(150)}`,
      ];
      for (const url of queries) {
        const res = await t.inject({ method: 'GET', url, headers: { 'x-api-key': key } });
        expect(res.statusCode, `${url.slice(0, 80)} → ${res.body.slice(0, 200)}`).toBeLessThan(500);
        expect(res.json().success).toBeTypeOf('boolean');
      }
      expect((await get('/healthz')).statusCode).toBe(200);
    });
  });
}
