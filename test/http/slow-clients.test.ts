import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { testDialects } from '../helpers/databases.js';
import { connectRaw, rawJsonBody, rawStatus, within } from '../helpers/raw-http.js';

const REQUEST_TIMEOUT_MS = 1500;
const HEADERS_TIMEOUT_MS = 700;
const KEEP_ALIVE_TIMEOUT_MS = 400;

for (const dialect of testDialects()) {
  describe(`slow, idle and malformed clients on a listening server (${dialect})`, () => {
    let t: TestApp;
    let port: number;
    let key: string;

    beforeAll(async () => {
      t = await startTestApp(dialect, {
        env: { REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS), HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS), KEEP_ALIVE_TIMEOUT_MS: String(KEEP_ALIVE_TIMEOUT_MS) },
      });
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      port = (t.app.server.address() as AddressInfo).port;
      key = (await t.createAccount('unlimited')).apiKey;
    });
    afterAll(() => t.close());

    it('closes an idle keep-alive connection after the idle timeout', async () => {
      const c = await connectRaw(port);
      c.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      await c.waitFor(/"status":"ok"/);
      const answeredAt = Date.now();
      await within(c.closed, KEEP_ALIVE_TIMEOUT_MS + 3000, 'idle connection closed');
      expect(Date.now() - answeredAt).toBeGreaterThanOrEqual(KEEP_ALIVE_TIMEOUT_MS - 100);
    });

    it('closes a connection that never sends anything', async () => {
      const c = await connectRaw(port);
      const closedAfter = await within(c.closed, HEADERS_TIMEOUT_MS + 3000, 'silent connection closed');
      expect(closedAfter).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 100);
    });

    it('cuts a connection that never finishes its headers, with a JSON 408', async () => {
      const c = await connectRaw(port);
      c.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
      const closedAfter = await within(c.closed, HEADERS_TIMEOUT_MS + 3000, 'header-less connection closed');
      expect(closedAfter).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 100);
      expect(rawStatus(c.received())).toBe(408);
      expect(rawJsonBody(c.received())).toMatchObject({ success: false, code: 'request_timeout' });
    });

    it('cuts a client that drips its body a byte at a time, at the request timeout', async () => {
      const c = await connectRaw(port);
      c.write(`POST /api/v1/send HTTP/1.1\r\nHost: x\r\nX-API-Key: ${key}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{`);
      const drip = setInterval(() => c.write(' '), 100);
      try {
        const closedAfter = await within(c.closed, REQUEST_TIMEOUT_MS + 3000, 'dripping connection closed');
        expect(closedAfter).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 100);
      } finally {
        clearInterval(drip);
      }
      expect(rawStatus(c.received())).toBe(408);
      expect(rawJsonBody(c.received())).toMatchObject({ success: false, code: 'request_timeout' });
    });

    it('answers an unauthenticated large POST with 401 before reading its body, and closes', async () => {
      const cases: Array<{ path?: string; headers: string; code: string }> = [
        { headers: '', code: 'invalid_api_key' },
        { headers: 'X-API-Key: msg_00000000000000000000000000000000\r\n', code: 'invalid_api_key' },
        { headers: 'Cookie: messageapi_session=not-a-session-not-a-session-0000\r\n', code: 'invalid_api_key' },
      ];
      const wrongKey = 'msg_00000000000000000000000000000000';
      const sendPhp = [
        { path: `/send.php?apikey=${wrongKey}`, headers: '', code: 'invalid_api_key' },
        { path: '/send.php', headers: `X-API-Key: ${wrongKey}\r\n`, code: 'invalid_api_key' },
      ];
      for (const { path = '/api/v1/send', headers, code } of [...cases, ...sendPhp]) {
        const c = await connectRaw(port);
        // 900 kB announced, under the body limit: only the first bytes are ever sent.
        c.write(`POST ${path} HTTP/1.1\r\nHost: x\r\n${headers}Content-Type: application/json\r\nContent-Length: 900000\r\n\r\n{"text":`);
        const text = await c.waitFor(/\r\n\r\n\{.*\}$/s, 3000);
        expect(rawStatus(text)).toBe(401);
        expect(text).toMatch(/\r\nconnection: close\r\n/i);
        expect(rawJsonBody(text)).toMatchObject({ success: false, code });
        await within(c.closed, 2000, 'refused connection closed');
      }
    });

    it('still reads the body of an authenticated POST, and /send.php (whose key may be in the body)', async () => {
      const c = await connectRaw(port);
      const body = JSON.stringify({ recipient: '12125551234', text: 'hi', wait: 0 });
      c.write(`POST /api/v1/send HTTP/1.1\r\nHost: x\r\nX-API-Key: ${key}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
      c.write(body);
      expect(rawStatus(await c.waitFor(/"success":true/))).toBe(200);
      c.socket.destroy();
      const form = `apikey=${key}&recipient=12125551234&text=hi`;
      const f = await connectRaw(port);
      f.write(`POST /send.php HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${form.length}\r\n\r\n${form}`);
      expect(rawStatus(await f.waitFor(/"success":true/))).toBe(200);
      f.socket.destroy();
    });

    it('keeps a live event stream open past the request timeout', async () => {
      const stream = await connectRaw(port);
      stream.write(`GET /api/v1/session/events HTTP/1.1\r\nHost: x\r\nX-API-Key: ${key}\r\n\r\n`);
      await stream.waitFor(/"state":"connected"/);
      // A dripping client opened after the stream is cut at the request timeout: by then the stream has outlived it.
      const dripper = await connectRaw(port);
      dripper.write(`POST /send.php HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n`);
      const drip = setInterval(() => dripper.write('a'), 100);
      try {
        await within(dripper.closed, REQUEST_TIMEOUT_MS + 3000, 'dripping connection closed');
      } finally {
        clearInterval(drip);
      }
      const disconnect = await t.inject({ method: 'POST', url: '/api/v1/sandbox/disconnect', headers: { 'x-api-key': key }, payload: { reason: 'logged_out' } });
      expect(disconnect.statusCode, disconnect.body).toBe(200);
      await stream.waitFor(/"state":"(logged_out|disconnected)"/, 4000);
      expect(stream.socket.destroyed).toBe(false);
      stream.socket.destroy();
    });

    it('answers headers too large with a JSON 431, and a malformed request with a JSON 400', async () => {
      const big = await connectRaw(port);
      big.write(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
      await within(big.closed, 3000, 'oversized headers answered');
      expect(rawStatus(big.received())).toBe(431);
      expect(big.received()).toMatch(/\r\nx-content-type-options: nosniff\r\n/i);
      expect(rawJsonBody(big.received())).toMatchObject({ success: false, code: 'headers_too_large', error: expect.any(String) });

      for (const request of ['GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header Name: 1\r\n\r\n', 'NOT-HTTP\r\n\r\n', 'GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n']) {
        const c = await connectRaw(port);
        c.write(request);
        await within(c.closed, 3000, `malformed request ${JSON.stringify(request)} answered`);
        expect(rawStatus(c.received())).toBe(400);
        expect(rawJsonBody(c.received())).toMatchObject({ success: false, code: 'invalid_parameter' });
      }
    });
  });
}

describe('bodies read before their sender is known are bounded', () => {
  const MAX = 3;
  let t: TestApp;
  let port: number;
  let key: string;

  beforeAll(async () => {
    t = await startTestApp(testDialects()[0]!, { env: { UNAUTHENTICATED_BODIES_MAX: String(MAX), REQUEST_TIMEOUT_MS: '20000' } });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    port = (t.app.server.address() as AddressInfo).port;
    key = (await t.createAccount('unlimited')).apiKey;
  });
  afterAll(() => t.close());

  it(`holds at most ${MAX} /send.php bodies whose key is in the form, refuses more with a JSON 503, and takes the next once one ends`, async () => {
    const slow = await Promise.all(Array.from({ length: MAX }, () => connectRaw(port)));
    for (const c of slow) c.write('POST /send.php HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 900000\r\n\r\ntext=');
    // Each of them is being read (no answer yet) when one more arrives.
    const extra = await connectRaw(port);
    extra.write('POST /send.php HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 900000\r\n\r\ntext=');
    await within(extra.closed, 5000, 'the extra slow body refused');
    expect(rawStatus(extra.received())).toBe(503);
    expect(rawJsonBody(extra.received())).toMatchObject({ success: false, code: 'service_unavailable' });
    expect(slow.map((c) => c.received())).toEqual(slow.map(() => ''));

    // One slow client goes away: its place is free for a real form send with its key in the body.
    slow[0]!.socket.destroy();
    await slow[0]!.closed;
    const form = `recipient=12125551234&apikey=${key}&text=hello`;
    await expect
      .poll(
        async () => {
          const c = await connectRaw(port);
          c.write(`POST /send.php HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${form.length}\r\n\r\n${form}`);
          await within(c.closed, 5000, 'form send answered');
          return rawStatus(c.received());
        },
        { timeout: 5000 },
      )
      .toBe(200);
    for (const c of slow.slice(1)) c.socket.destroy();
  });
});
