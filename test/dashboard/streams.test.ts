import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setPassword, updateAccountFlags } from '../../src/core/admin.js';
import { testDialects } from '../helpers/databases.js';
import { within } from '../helpers/raw-http.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const PASSWORD = 'correct horse battery';
const RECHECK_MS = 200;
const CAP = 2;

interface OpenStream {
  status: number;
  body: string;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
}

for (const dialect of testDialects()) {
  describe(`live session-event streams end with the right to see them (${dialect})`, () => {
    let t: TestApp;
    let base: string;
    let ip = 0;

    beforeAll(async () => {
      t = await startTestApp(dialect, { env: { STREAM_RECHECK_MS: String(RECHECK_MS), STREAMS_PER_ACCOUNT: String(CAP) } });
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    });
    afterAll(() => t.close());

    async function openStream(headers: Record<string, string>): Promise<OpenStream> {
      const controller = new AbortController();
      const response = await fetch(`${base}/api/v1/session/events`, { headers, signal: controller.signal });
      if (response.status !== 200) return { status: response.status, body: await response.text(), ended: Promise.resolve(), close: () => undefined };
      const reader = response.body!.getReader();
      let text = '';
      while (!text.includes('event: session')) text += new TextDecoder().decode((await reader.read()).value);
      const ended = (async () => {
        for (;;) if ((await reader.read()).done) return;
      })();
      ended.catch(() => undefined);
      return { status: 200, body: text, ended, close: () => controller.abort() };
    }

    async function signIn(email: string) {
      const res = await t.inject({ method: 'POST', url: '/auth/login', remoteAddress: `10.9.0.${++ip}`, payload: { email, password: PASSWORD } });
      expect(res.statusCode, res.body).toBe(200);
      const raw = res.headers['set-cookie'];
      const cookie = String(Array.isArray(raw) ? raw[0] : raw).split(';')[0]!;
      return { cookie, csrf: res.json().csrfToken as string };
    }

    async function accountWithPassword() {
      const email = `stream-${Math.random().toString(36).slice(2, 10)}@example.com`;
      const account = await t.createAccount('unlimited', { email });
      await setPassword(t.runtime.store, account.id, PASSWORD);
      return { ...account, email };
    }

    it('ends a key-authenticated stream once its key is revoked', async () => {
      const { apiKey } = await t.createAccount('trial');
      const stream = await openStream({ 'x-api-key': apiKey });
      expect(stream.status).toBe(200);
      const keys = (await t.inject({ method: 'GET', url: '/api/v1/keys', headers: { 'x-api-key': apiKey } })).json().keys as Array<{ id: string }>;
      const revoked = await t.inject({ method: 'DELETE', url: `/api/v1/keys/${keys[0]!.id}`, headers: { 'x-api-key': apiKey } });
      expect(revoked.statusCode).toBe(200);
      await within(stream.ended, 3000, 'stream ended after the key was revoked');
    });

    it('ends a cookie stream when that browser signs out, and every stream on "sign out everywhere"', async () => {
      const { email } = await accountWithPassword();
      const first = await signIn(email);
      const second = await signIn(email);
      const streamOfFirst = await openStream({ cookie: first.cookie });
      const streamOfSecond = await openStream({ cookie: second.cookie });
      expect([streamOfFirst.status, streamOfSecond.status]).toEqual([200, 200]);

      const out = await t.inject({ method: 'POST', url: '/auth/logout', headers: { cookie: first.cookie, 'x-csrf-token': first.csrf }, payload: {} });
      expect(out.statusCode).toBe(200);
      await within(streamOfFirst.ended, 3000, 'stream ended after signing out');

      const third = await signIn(email);
      const everywhere = await t.inject({ method: 'POST', url: '/auth/logout-everywhere', headers: { cookie: third.cookie, 'x-csrf-token': third.csrf }, payload: {} });
      expect(everywhere.statusCode).toBe(200);
      await within(streamOfSecond.ended, 3000, 'stream ended after signing out everywhere');
    });

    it('ends the streams of an account that is disabled, by key and by cookie', async () => {
      const { id, apiKey, email } = await accountWithPassword();
      const { cookie } = await signIn(email);
      const byKey = await openStream({ 'x-api-key': apiKey });
      const byCookie = await openStream({ cookie });
      expect([byKey.status, byCookie.status]).toEqual([200, 200]);
      await updateAccountFlags(t.runtime.store, id, { active: false });
      await within(Promise.all([byKey.ended, byCookie.ended]), 3000, 'streams ended after the account was disabled');
    });

    it(`caps live streams per account at ${CAP}: the next gets 429 and a closed one frees its slot`, async () => {
      const { apiKey } = await t.createAccount('trial');
      const other = await t.createAccount('trial');
      const open = [await openStream({ 'x-api-key': apiKey }), await openStream({ 'x-api-key': apiKey })];
      expect(open.map((s) => s.status)).toEqual([200, 200]);
      const refused = await openStream({ 'x-api-key': apiKey });
      expect(refused.status).toBe(429);
      expect(JSON.parse(refused.body)).toMatchObject({ success: false, code: 'too_many_requests' });
      const otherAccount = await openStream({ 'x-api-key': other.apiKey });
      expect(otherAccount.status).toBe(200);

      open[0]!.close();
      await expect
        .poll(
          async () => {
            const next = await openStream({ 'x-api-key': apiKey });
            next.close();
            return next.status;
          },
          { timeout: 3000, interval: 100 },
        )
        .toBe(200);
      open[1]!.close();
      otherAccount.close();
    });
  });
}
