import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount } from '../../src/core/accounts.js';
import { setPassword } from '../../src/core/admin.js';
import { FREE_FAILURES } from '../../src/core/login-throttle.js';
import { issueSetupToken } from '../../src/core/setup-token.js';
import { testDialects } from '../helpers/databases.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const PASSWORD = 'correct horse battery';
/** Where the throttle is involved the clock stands still, so that no lock runs out while slow hashes run. */
const STILL = Date.parse('2026-11-25T10:00:00Z');
/**
 * Refusals are answered at once here: these tests count them, and the second each would otherwise be
 * held for (test/dashboard/refused-signins.test.ts checks it) changes none of them.
 */
const NO_REFUSAL_DELAY = { SIGNIN_REFUSAL_DELAY_MS: '0' };
let counter = 0;
const uniqueEmail = (name: string) => `${name}-${++counter}-${Math.random().toString(36).slice(2, 8)}@example.com`;

function cookieOf(res: { headers: Record<string, unknown> }): string {
  const raw = res.headers['set-cookie'];
  const first = (Array.isArray(raw) ? raw[0] : raw) as string;
  return first.split(';')[0]!;
}

/** An account with a dashboard password, signed in: its key, and the cookie with its CSRF token. */
async function signedInAccount(t: TestApp, options: { plan?: string; isAdmin?: boolean; ip?: string } = {}) {
  const email = uniqueEmail(options.isAdmin ? 'admin' : 'user');
  const created = await createAccount(t.runtime.store, { email, plan: options.plan ?? 'unlimited', isAdmin: options.isAdmin }, t.runtime.clock());
  await setPassword(t.runtime.store, created.id, PASSWORD);
  const res = await t.inject({ method: 'POST', url: '/auth/login', remoteAddress: options.ip ?? '10.9.0.1', payload: { email, password: PASSWORD } });
  expect(res.statusCode).toBe(200);
  return { id: created.id, email, apiKey: created.apiKey, cookie: { cookie: cookieOf(res), 'x-csrf-token': res.json().csrfToken as string } };
}

const counts = (statuses: number[]) => statuses.reduce<Record<number, number>>((acc, s) => ({ ...acc, [s]: (acc[s] ?? 0) + 1 }), {});

for (const dialect of testDialects()) {
  describe(`a disabled account is disabled everywhere (${dialect})`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp(dialect);
    });
    afterAll(() => t.close());

    it("refuses every request made with a disabled account's key or cookie with 403 account_disabled", async () => {
      const admin = await signedInAccount(t, { isAdmin: true });
      const user = await signedInAccount(t);
      const disable = await t.inject({ method: 'PATCH', url: `/api/v1/admin/accounts/${user.id}`, headers: admin.cookie, payload: { active: false } });
      expect(disable.json().account).toMatchObject({ active: false });

      const key = { 'x-api-key': user.apiKey };
      const requests = [
        { method: 'GET', url: '/api/v1/status' },
        { method: 'GET', url: '/api/v1/keys' },
        { method: 'POST', url: '/api/v1/keys' },
        { method: 'PATCH', url: '/api/v1/settings', payload: { disconnectEmail: false } },
        { method: 'POST', url: '/api/v1/session/link' },
        { method: 'POST', url: '/api/v1/session/logout' },
        { method: 'GET', url: '/api/v1/session/events' },
        { method: 'POST', url: '/api/v1/send', payload: { recipient: '12125551234', text: 'hi' } },
        { method: 'GET', url: '/api/v1/messages' },
        { method: 'GET', url: '/api/v1/webhooks/deliveries' },
      ] as const;
      for (const request of requests) {
        for (const headers of [key, user.cookie]) {
          const res = await t.inject({ ...request, headers });
          expect({ url: request.url, status: res.statusCode, body: res.json() }).toMatchObject({ url: request.url, status: 403, body: { success: false, code: 'account_disabled' } });
        }
      }
      const sendPhp = await t.inject({ method: 'GET', url: `/send.php?apikey=${user.apiKey}&recipient=12125551234&text=hi` });
      expect(sendPhp.json()).toMatchObject({ code: 'account_disabled' });
      for (const url of ['/auth/password', '/auth/logout-everywhere']) {
        const res = await t.inject({ method: 'POST', url, headers: user.cookie, payload: { currentPassword: PASSWORD, newPassword: 'another long password' } });
        expect(res.json()).toMatchObject({ code: 'account_disabled' });
      }
      // the dashboard shows the sign-in page, where signing in says why
      expect((await t.inject({ method: 'GET', url: '/auth/state', headers: user.cookie })).json()).toMatchObject({ signedIn: false });
      const login = await t.inject({ method: 'POST', url: '/auth/login', remoteAddress: '10.9.0.2', payload: { email: user.email, password: PASSWORD } });
      expect(login.json()).toMatchObject({ code: 'account_disabled' });
      // nothing changed while it was disabled: still one key
      await t.inject({ method: 'PATCH', url: `/api/v1/admin/accounts/${user.id}`, headers: admin.cookie, payload: { active: true } });
      const keys = await t.inject({ method: 'GET', url: '/api/v1/keys', headers: key });
      expect(keys.json().keys).toHaveLength(1);
      expect((await t.inject({ method: 'GET', url: '/api/v1/status', headers: user.cookie })).statusCode).toBe(200);
    });

    it('takes every admin power from a disabled admin, with its key and its cookie', async () => {
      const first = await signedInAccount(t, { isAdmin: true });
      const second = await signedInAccount(t, { isAdmin: true });
      expect((await t.inject({ method: 'PATCH', url: `/api/v1/admin/accounts/${second.id}`, headers: first.cookie, payload: { active: false } })).statusCode).toBe(200);
      for (const headers of [second.cookie, { 'x-api-key': second.apiKey }]) {
        const reEnable = await t.inject({ method: 'PATCH', url: `/api/v1/admin/accounts/${second.id}`, headers, payload: { active: true } });
        expect(reEnable.json()).toMatchObject({ code: 'account_disabled' });
        const retaliate = await t.inject({ method: 'PATCH', url: `/api/v1/admin/accounts/${first.id}`, headers, payload: { active: false } });
        expect(retaliate.json()).toMatchObject({ code: 'account_disabled' });
        expect((await t.inject({ method: 'GET', url: '/api/v1/admin/accounts', headers })).json()).toMatchObject({ code: 'account_disabled' });
      }
      const firstNow = await t.inject({ method: 'GET', url: `/api/v1/admin/accounts/${first.id}`, headers: first.cookie });
      expect(firstNow.json().account).toMatchObject({ active: true, isAdmin: true });
    });
  });

  describe(`the last enabled admin stays (${dialect})`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp(dialect);
    });
    afterAll(() => t.close());

    const enabledAdmins = async (headers: Record<string, string>) => {
      const list = (await t.inject({ method: 'GET', url: '/api/v1/admin/accounts?limit=200', headers })).json().accounts as Array<{ active: boolean; isAdmin: boolean }>;
      return list.filter((a) => a.active && a.isAdmin).length;
    };

    it('refuses, when two admins disable or demote each other at once, the change that would leave none', async () => {
      const watcher = await signedInAccount(t, { isAdmin: true });
      for (const patch of [{ active: false }, { isAdmin: false }]) {
        const a = await signedInAccount(t, { isAdmin: true });
        const b = await signedInAccount(t, { isAdmin: true });
        // the watcher steps aside (a third admin would make both changes fine)
        const aside = await t.inject({ method: 'PATCH', url: `/api/v1/admin/accounts/${watcher.id}`, headers: a.cookie, payload: { isAdmin: false } });
        expect(aside.statusCode).toBe(200);
        const [ab, ba] = await Promise.all([
          t.inject({ method: 'PATCH', url: `/api/v1/admin/accounts/${b.id}`, headers: a.cookie, payload: patch }),
          t.inject({ method: 'PATCH', url: `/api/v1/admin/accounts/${a.id}`, headers: b.cookie, payload: patch }),
        ]);
        const statuses = [ab.statusCode, ba.statusCode].sort();
        expect(statuses[0]).toBe(200);
        // the other is refused: as the last admin's change (409), or because its admin lost its rights first
        expect([403, 409]).toContain(statuses[1]);
        const refused = ab.statusCode === 200 ? ba : ab;
        if (refused.statusCode === 409) expect(refused.json().error).toMatch(/last enabled admin/);
        const survivor = ab.statusCode === 200 ? a : b;
        expect(await enabledAdmins(survivor.cookie)).toBe(1);
        // the watcher is made an admin again for the next round; the pair's loser is not needed any more
        await t.inject({ method: 'PATCH', url: `/api/v1/admin/accounts/${watcher.id}`, headers: survivor.cookie, payload: { isAdmin: true } });
        await t.inject({ method: 'PATCH', url: `/api/v1/admin/accounts/${survivor.id}`, headers: watcher.cookie, payload: { isAdmin: false } });
      }
    });
  });

  describe(`password checks are reserved before hashing, and hashing is bounded (${dialect})`, () => {
    let t: TestApp;
    beforeAll(async () => {
      // A long queue here: only the throttle may refuse. Its refusals go out at once rather than
      // 20 a second (test/dashboard/refused-signins.test.ts checks that pacing).
      t = await startTestApp(dialect, { clock: () => STILL, env: { ...NO_REFUSAL_DELAY, PASSWORD_HASH_QUEUE: '1000', SIGNIN_REFUSALS_PER_SECOND: '0' } });
    });
    afterAll(() => t.close());

    it('lets at most the free tries through when 200 sign-ins for one e-mail arrive at once, and refuses the right password among them', async () => {
      const user = await signedInAccount(t, { plan: 'trial' });
      const answers = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          t.inject({ method: 'POST', url: '/auth/login', remoteAddress: `10.7.${i >> 8}.${i & 255}`, payload: { email: user.email, password: i === 149 ? PASSWORD : `wrong password ${i}` } }),
        ),
      );
      expect(counts(answers.map((a) => a.statusCode))).toEqual({ 401: FREE_FAILURES, 429: 200 - FREE_FAILURES });
      expect(answers[149]!.statusCode).toBe(429);
      expect(Number(answers[149]!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    });

    it('throttles the current-password check of a password change the same way', async () => {
      const user = await signedInAccount(t, { plan: 'trial', ip: '10.8.0.1' });
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          t.inject({ method: 'POST', url: '/auth/password', remoteAddress: '10.8.0.1', headers: user.cookie, payload: { currentPassword: `not it ${i}`, newPassword: 'a brand new password' } }),
        ),
      );
      expect(counts(answers.map((a) => a.statusCode))).toEqual({ 401: FREE_FAILURES, 429: 20 - FREE_FAILURES });
      const right = await t.inject({ method: 'POST', url: '/auth/password', remoteAddress: '10.8.0.2', headers: user.cookie, payload: { currentPassword: PASSWORD, newPassword: 'a brand new password' } });
      expect(right.json()).toMatchObject({ code: 'too_many_requests' });
    });

    it('gives a successful sign-in its reserved attempt back, so an address that signs in often is never locked', async () => {
      const user = await signedInAccount(t, { plan: 'trial', ip: '10.8.1.1' });
      for (let i = 0; i < FREE_FAILURES + 3; i++) {
        const res = await t.inject({ method: 'POST', url: '/auth/login', remoteAddress: '10.8.1.1', payload: { email: user.email, password: PASSWORD } });
        expect(res.statusCode).toBe(200);
      }
    });
  });

  describe(`with one hashing worker and no queue (${dialect})`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp(dialect, { clock: () => STILL, env: { ...NO_REFUSAL_DELAY, PASSWORD_HASH_CONCURRENCY: '1', PASSWORD_HASH_QUEUE: '0' } });
    });
    afterAll(() => t.close());

    it('refuses hashing beyond the limit at once with 503 and Retry-After, in the JSON error shape', async () => {
      const answers = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          t.inject({ method: 'POST', url: '/auth/login', remoteAddress: `10.6.0.${i + 1}`, payload: { email: uniqueEmail('nobody'), password: 'some password' } }),
        ),
      );
      const busy = answers.filter((a) => a.statusCode === 503);
      expect(busy.length).toBeGreaterThan(0);
      expect(busy[0]!.json()).toMatchObject({ success: false, code: 'service_unavailable' });
      expect(busy[0]!.headers['retry-after']).toBe('1');
      expect(answers.every((a) => a.statusCode === 503 || a.statusCode === 401)).toBe(true);
    });

    it('does not count a sign-in refused for want of a hashing worker against the free tries', async () => {
      const email = uniqueEmail('busy');
      const burst = await Promise.all(
        Array.from({ length: 12 }, (_, i) => t.inject({ method: 'POST', url: '/auth/login', remoteAddress: `10.6.1.${i + 1}`, payload: { email, password: `wrong ${i}` } })),
      );
      const checked = burst.filter((a) => a.statusCode === 401).length;
      expect(burst.filter((a) => a.statusCode === 503).length).toBeGreaterThan(0);
      for (let i = checked; i < FREE_FAILURES; i++) {
        expect((await t.inject({ method: 'POST', url: '/auth/login', remoteAddress: '10.6.2.1', payload: { email, password: 'still wrong' } })).statusCode).toBe(401);
      }
      expect((await t.inject({ method: 'POST', url: '/auth/login', remoteAddress: '10.6.2.2', payload: { email, password: 'still wrong' } })).statusCode).toBe(429);
    });

    it('checks the setup token before any hashing, keeps the link through a typo, and answers at once once accounts exist', async () => {
      const token = (await issueSetupToken(t.runtime.store, t.runtime.clock()))!;
      // 20 at once through one hashing worker with no queue: any hashing would answer 503
      const bogus = await Promise.all(Array.from({ length: 20 }, () => t.inject({ method: 'POST', url: '/auth/setup', payload: { token: 'bogus-token', email: 'admin@example.com', password: PASSWORD } })));
      expect(bogus.map((r) => r.statusCode)).toEqual(Array(20).fill(403));

      const typo = await t.inject({ method: 'POST', url: '/auth/setup', payload: { token, email: 'admin@example', password: PASSWORD } });
      expect(typo.json()).toMatchObject({ code: 'invalid_parameter' });
      const short = await t.inject({ method: 'POST', url: '/auth/setup', payload: { token, email: 'admin@example.com', password: 'short' } });
      expect(short.json()).toMatchObject({ code: 'invalid_parameter' });
      const done = await t.inject({ method: 'POST', url: '/auth/setup', payload: { token, email: 'admin@example.com', password: PASSWORD } });
      expect(done.json()).toMatchObject({ success: true, account: { email: 'admin@example.com', isAdmin: true } });

      const after = await Promise.all(Array.from({ length: 20 }, () => t.inject({ method: 'POST', url: '/auth/setup', payload: { token, email: 'second@example.com', password: PASSWORD } })));
      expect(after.map((r) => r.statusCode)).toEqual(Array(20).fill(403));
    });
  });

  describe(`client addresses without TRUST_PROXY (${dialect})`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp(dialect, { clock: () => STILL, env: NO_REFUSAL_DELAY });
    });
    afterAll(() => t.close());

    const failWith = (remoteAddress: string, forwardedFor: string) =>
      t.inject({ method: 'POST', url: '/auth/login', remoteAddress, headers: { 'x-forwarded-for': forwardedFor }, payload: { email: uniqueEmail('nobody'), password: 'wrong password' } });

    it('does not let a forged X-Forwarded-For bypass the per-address throttle', async () => {
      for (let i = 0; i < FREE_FAILURES; i++) expect((await failWith('10.5.0.1', `192.0.2.${i + 1}`)).statusCode).toBe(401);
      expect((await failWith('10.5.0.1', '192.0.2.200')).statusCode).toBe(429);
    });

    it('does not let a forged X-Forwarded-For lock out another address', async () => {
      const victim = await signedInAccount(t, { plan: 'trial', ip: '10.5.0.9' });
      for (let i = 0; i < FREE_FAILURES + 1; i++) await failWith('10.5.0.2', '10.5.0.9');
      const res = await t.inject({ method: 'POST', url: '/auth/login', remoteAddress: '10.5.0.9', payload: { email: victim.email, password: PASSWORD } });
      expect(res.statusCode).toBe(200);
    });
  });

  describe(`client addresses with TRUST_PROXY set to the loopback proxy (${dialect})`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp(dialect, { clock: () => STILL, env: { ...NO_REFUSAL_DELAY, TRUST_PROXY: '127.0.0.1' } });
    });
    afterAll(() => t.close());

    const failWith = (remoteAddress: string, forwardedFor: string) =>
      t.inject({ method: 'POST', url: '/auth/login', remoteAddress, headers: { 'x-forwarded-for': forwardedFor }, payload: { email: uniqueEmail('nobody'), password: 'wrong password' } });

    it("takes the client's address from the proxy, and only from the proxy", async () => {
      for (let i = 0; i < FREE_FAILURES; i++) expect((await failWith('127.0.0.1', '198.51.100.7')).statusCode).toBe(401);
      expect((await failWith('127.0.0.1', '198.51.100.7')).statusCode).toBe(429);
      // another client behind the same proxy is not locked
      expect((await failWith('127.0.0.1', '198.51.100.8')).statusCode).toBe(401);
      // a client that is not the proxy cannot borrow the locked address, nor escape its own
      expect((await failWith('10.5.1.1', '198.51.100.7')).statusCode).toBe(401);
    });
  });
}

for (const dialect of testDialects()) {
  describe(`client addresses with TRUST_PROXY as a hop count (${dialect})`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp(dialect, { clock: () => STILL, env: { ...NO_REFUSAL_DELAY, TRUST_PROXY: '1' } });
    });
    afterAll(() => t.close());

    const failWith = (remoteAddress: string, forwardedFor: string) =>
      t.inject({ method: 'POST', url: '/auth/login', remoteAddress, headers: { 'x-forwarded-for': forwardedFor }, payload: { email: uniqueEmail('nobody'), password: 'wrong password' } });

    it('takes the address the one proxy in front added, whatever the client wrote before it', async () => {
      for (let i = 0; i < FREE_FAILURES; i++) expect((await failWith('10.5.2.1', `203.0.113.${i + 1}, 198.51.100.9`)).statusCode).toBe(401);
      expect((await failWith('10.5.2.2', '198.51.100.9')).statusCode).toBe(429);
      expect((await failWith('10.5.2.1', '198.51.100.10')).statusCode).toBe(401);
    });
  });
}
