import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { testDialects } from '../helpers/databases.js';

for (const dialect of testDialects()) {
  describe(`reading, sessions and operations (${dialect})`, () => {
    let t: TestApp;
    let key: string;
    beforeAll(async () => {
      t = await startTestApp(dialect);
      key = (await t.createAccount('personal')).apiKey;
    });
    afterAll(() => t.close());

    const get = (url: string) => t.inject({ method: 'GET', url, headers: { 'x-api-key': key } });
    const post = (url: string, payload?: unknown) => t.inject({ method: 'POST', url, headers: { 'x-api-key': key }, payload: payload as never });

    it('GET /api/v1/status shows the sandbox number, the plan and usage; the key may come as ?apikey=', async () => {
      // An account of its own: its usage is 0 whichever tests ran before.
      const own = (await t.createAccount('personal')).apiKey;
      const res = await t.inject({ method: 'GET', url: `/api/v1/status?apikey=${own}` });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ success: true, connected: true, phone: expect.stringMatching(/^1555\d{7}$/), dailyLimit: 150, messagesToday: 0, plan: 'personal', state: 'connected' });
    });

    it('lists the log newest first, filters by status and pages with an opaque cursor', async () => {
      // An account of its own: its log holds exactly these messages whichever tests ran before.
      const own = (await t.createAccount('personal')).apiKey;
      const get = (url: string) => t.inject({ method: 'GET', url, headers: { 'x-api-key': own } });
      const post = (url: string, payload?: unknown) => t.inject({ method: 'POST', url, headers: { 'x-api-key': own }, payload: payload as never });
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await post('/api/v1/send', { recipient: '12125551234', text: `n${i}` })).json().messageId);
      const failed = (await post('/api/v1/send', { recipient: '12125550000', text: 'x' })).json().messageId;
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: any = (await get(`/api/v1/messages?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)).json();
        expect(page.messages.length).toBeLessThanOrEqual(2);
        seen.push(...page.messages.map((m: { messageId: string }) => m.messageId));
        cursor = page.nextCursor;
        pages++;
      } while (cursor);
      expect(seen).toEqual([failed, ...ids.reverse()]);
      expect(pages).toBe(3);
      const onlyFailed = (await get('/api/v1/messages?status=failed')).json();
      expect(onlyFailed.messages.map((m: { messageId: string }) => m.messageId)).toEqual([failed]);
      expect(onlyFailed.nextCursor).toBeNull();
      const status = (await get('/api/v1/status')).json();
      expect(status.messagesToday).toBe(5);
    });

    it('links, pairs and logs out a session through the session API', async () => {
      expect((await get('/api/v1/session')).json()).toMatchObject({ success: true, state: 'connected' });
      expect((await post('/api/v1/session/logout')).json()).toEqual({ success: true });
      expect((await get('/api/v1/session')).json()).toMatchObject({ state: 'unlinked', phone: null });
      const paired = (await post('/api/v1/session/pair', { phone: '+44 7700 900123' })).json();
      expect(paired).toMatchObject({ state: 'connected', phone: '447700900123', pairingCode: expect.stringMatching(/^[0-9A-Z]{8}$/) });
      expect((await post('/api/v1/session/link')).json()).toMatchObject({ state: 'connected' });
    });

    it('raises the sandbox events and ends a session with a reason', async () => {
      const incoming = await post('/api/v1/sandbox/incoming', { from: '12125559876', text: 'hello' });
      expect(incoming.json()).toMatchObject({ success: true, id: expect.any(String) });
      const inGroup = await post('/api/v1/sandbox/incoming', { from: '12125559876', text: 'hi all', groupId: '120363012345678901@g.us' });
      expect(inGroup.statusCode).toBe(200);
      expect((await post('/api/v1/sandbox/disconnect', { reason: 'connection_lost' })).statusCode).toBe(200);
      expect((await get('/api/v1/session')).json()).toMatchObject({ state: 'disconnected', reason: 'connection_lost' });
      expect((await post('/api/v1/send', { recipient: '12125551234', text: 'x' })).json().code).toBe('not_connected');
      expect((await post('/api/v1/sandbox/disconnect', { reason: 'exploded' })).json().code).toBe('invalid_parameter');
      await post('/api/v1/session/link');
    });

    it('serves health, readiness, metrics, OpenAPI and the docs page', async () => {
      expect((await t.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      expect((await t.inject({ method: 'GET', url: '/readyz' })).json()).toMatchObject({ status: 'ready' });
      // A send of its own, so the counters below exist when this test runs alone (-t).
      expect((await post('/api/v1/send', { recipient: '12125551234', text: 'for the metrics' })).json()).toMatchObject({ status: 'sent' });
      const metrics = await t.inject({ method: 'GET', url: '/metrics' });
      expect(metrics.body).toMatch(/messageapi_http_requests_total\{method="POST",route="\/api\/v1\/send",status="200"\} \d+/);
      expect(metrics.body).toMatch(/messageapi_messages_total\{status="sent"\} \d+/);
      expect(metrics.body).toMatch(/messageapi_outbox_depth/);
      expect(metrics.body).toMatch(/messageapi_dispatch_latency_seconds_bucket/);
      const openapi = (await t.inject({ method: 'GET', url: '/openapi.json' })).json();
      expect(openapi.openapi).toMatch(/^3\./);
      for (const path of ['/send.php', '/api/v1/send', '/api/v1/send/image', '/api/v1/send/document', '/api/v1/status', '/api/v1/messages/{id}', '/api/v1/messages', '/api/v1/groups']) {
        expect(openapi.paths, path).toHaveProperty([path]);
      }
      const docs = await t.inject({ method: 'GET', url: '/docs/' });
      expect(docs.statusCode).toBe(200);
      expect(docs.headers['content-type']).toMatch(/html/);
    });

    it('answers CORS preflights so browser pages and Apps Script can call the API', async () => {
      const res = await t.inject({
        method: 'OPTIONS',
        url: '/api/v1/send',
        headers: { origin: 'https://script.google.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-api-key,content-type' },
      });
      expect(res.statusCode).toBe(204);
      expect(res.headers['access-control-allow-origin']).toBe('*');
      expect(String(res.headers['access-control-allow-headers']).toLowerCase()).toContain('x-api-key');
      const simple = await t.inject({ method: 'GET', url: `/send.php?recipient=12125551234&apikey=${key}&text=cors`, headers: { origin: 'https://example.com' } });
      expect(simple.headers['access-control-allow-origin']).toBe('*');
      expect(String(simple.headers['access-control-expose-headers'])).toContain('RateLimit-Remaining');
    });
  });
}
