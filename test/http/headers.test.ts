import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { testDialects } from '../helpers/databases.js';

const METRICS_TOKEN = 'metrics-token-0123456789';

for (const dialect of testDialects()) {
  describe(`response headers and the metrics token (${dialect})`, () => {
    let t: TestApp;
    let key: string;

    beforeAll(async () => {
      t = await startTestApp(dialect, { env: { METRICS_TOKEN } });
      key = (await t.createAccount('unlimited')).apiKey;
    });
    afterAll(() => t.close());

    it('marks every /api/v1 and /auth answer no-store, errors included, and every answer nosniff', async () => {
      const json = { 'content-type': 'application/json' };
      const requests = [
        { method: 'GET', url: '/api/v1/status', headers: { 'x-api-key': key }, status: 200, secret: true },
        { method: 'GET', url: `/api/v1/status?apikey=${key}`, headers: {}, status: 200, secret: true },
        { method: 'GET', url: '/api/v1/status', headers: {}, status: 401, secret: true },
        { method: 'POST', url: '/api/v1/keys', headers: { 'x-api-key': key }, status: 200, secret: true },
        { method: 'POST', url: '/api/v1/send', headers: { 'x-api-key': key, ...json }, payload: '{"bad json', status: 400, secret: true },
        { method: 'POST', url: '/api/v1/send', headers: { ...json }, payload: '{}', status: 401, secret: true },
        { method: 'GET', url: '/api/v1/messages/nope', headers: { 'x-api-key': key }, status: 404, secret: true },
        { method: 'GET', url: '/api/v1/no-such-endpoint', headers: {}, status: 404, secret: true },
        { method: 'GET', url: '/auth/state', headers: {}, status: 200, secret: true },
        { method: 'POST', url: '/auth/login', headers: json, payload: '{}', status: 400, secret: true },
        { method: 'GET', url: '/healthz', headers: {}, status: 200, secret: false },
        { method: 'GET', url: '/metrics', headers: {}, status: 401, secret: false },
        { method: 'GET', url: '/openapi.json', headers: {}, status: 200, secret: false },
        { method: 'GET', url: '/docs/', headers: {}, status: 200, secret: false },
        { method: 'GET', url: '/receivers/receiver.php', headers: {}, status: 200, secret: false },
        { method: 'GET', url: '/no-such-page', headers: {}, status: 404, secret: false },
        { method: 'GET', url: '/login', headers: {}, status: undefined, secret: false },
      ] as const;
      for (const r of requests) {
        const res = await t.inject({ method: r.method, url: r.url, headers: r.headers, ...('payload' in r ? { payload: r.payload } : {}) });
        const what = `${r.method} ${r.url} → ${res.statusCode}`;
        if (r.status !== undefined) expect(res.statusCode, what).toBe(r.status);
        expect(res.headers['x-content-type-options'], what).toBe('nosniff');
        if (r.secret) expect(res.headers['cache-control'], what).toBe('no-store');
      }
    });

    it('requires the metrics token when METRICS_TOKEN is set', async () => {
      const none = await t.inject({ method: 'GET', url: '/metrics' });
      expect(none.statusCode).toBe(401);
      expect(none.json()).toMatchObject({ success: false, code: 'unauthorized', error: expect.stringMatching(/METRICS_TOKEN/) });
      expect(none.headers['www-authenticate']).toBe('Bearer');
      const wrong = await t.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}x` } });
      expect(wrong.statusCode).toBe(401);
      const right = await t.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
      expect(right.statusCode).toBe(200);
      expect(right.body).toMatch(/^# HELP /m);
    });
  });
}

describe('metrics without METRICS_TOKEN', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(testDialects()[0]!, { start: false });
  });
  afterAll(() => t.close());

  it('stays open as before', async () => {
    const res = await t.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });
});
