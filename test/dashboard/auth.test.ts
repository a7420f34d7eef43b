import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueSetupToken } from '../../src/core/setup-token.js';
import { setPassword } from '../../src/core/admin.js';
import { createAccount } from '../../src/core/accounts.js';
import { pruneBrowserSessions } from '../../src/core/browser-sessions.js';
import { pruneLoginAttempts } from '../../src/core/login-throttle.js';
import { testDialects } from '../helpers/databases.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const PASSWORD = 'correct horse battery';

function cookieOf(res: { headers: Record<string, unknown> }): string {
  const raw = res.headers['set-cookie'];
  const first = (Array.isArray(raw) ? raw[0] : raw) as string;
  return first.split(';')[0]!;
}

for (const dialect of testDialects()) {
  describe(`dashboard sign-in and the session cookie (${dialect})`, () => {
    let t: TestApp;
    let now = Date.parse('2026-11-25T10:00:00Z');

    beforeAll(async () => {
      // Behind a proxy on loopback (TRUST_PROXY): the 10.x test addresses below are clients, not proxies.
      // Refused sign-ins are answered at once, not after the delay test/dashboard/refused-signins.test.ts checks.
      t = await startTestApp(dialect, { clock: () => now, env: { TRUST_PROXY: '127.0.0.1', SIGNIN_REFUSAL_DELAY_MS: '0' } });
    });
    afterAll(() => t.close());

    /** The admin the first test makes through the setup link; made directly when a test runs alone (-t). */
    async function ensureAdmin() {
      const row = await t.runtime.store.db.selectFrom('accounts').select('id').where('email', '=', 'admin@example.com').executeTakeFirst();
      if (row) return;
      const created = await createAccount(t.runtime.store, { email: 'admin@example.com', plan: 'unlimited', expiresAt: null, isAdmin: true }, now);
      await setPassword(t.runtime.store, created.id, PASSWORD);
    }

    const login = (email: string, password: string, ip = '10.0.0.1') =>
      t.inject({ method: 'POST', url: '/auth/login', remoteAddress: ip, payload: { email, password } });

    it('creates the first account, an admin, with the one-time setup link, once', async () => {
      const state = await t.inject({ method: 'GET', url: '/auth/state' });
      expect(state.json()).toMatchObject({ signedIn: false, setupRequired: true });
      const token = (await issueSetupToken(t.runtime.store, now))!;
      expect(token).toBeTruthy();
      const wrong = await t.inject({ method: 'POST', url: '/auth/setup', payload: { token: 'nope', email: 'admin@example.com', password: PASSWORD } });
      expect(wrong.statusCode).toBe(403);
      const short = await t.inject({ method: 'POST', url: '/auth/setup', payload: { token, email: 'admin@example.com', password: 'short' } });
      expect(short.json()).toMatchObject({ code: 'invalid_parameter' });
      const res = await t.inject({ method: 'POST', url: '/auth/setup', payload: { token, email: 'admin@example.com', password: PASSWORD } });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ success: true, account: { email: 'admin@example.com', isAdmin: true, plan: 'unlimited' }, apiKey: expect.stringMatching(/^msg_/) });
      const setCookie = String(res.headers['set-cookie']);
      expect(setCookie).toMatch(/HttpOnly/);
      expect(setCookie).toMatch(/SameSite=Lax/);
      const again = await t.inject({ method: 'POST', url: '/auth/setup', payload: { token, email: 'second@example.com', password: PASSWORD } });
      expect(again.statusCode).toBe(403);
      expect(await issueSetupToken(t.runtime.store, now)).toBeUndefined();
    });

    it('marks the cookie Secure behind HTTPS (as a trusted proxy says)', async () => {
      await ensureAdmin();
      const headers = { 'x-forwarded-proto': 'https', 'x-forwarded-for': '10.0.0.9' };
      const res = await t.inject({ method: 'POST', url: '/auth/login', headers, remoteAddress: '127.0.0.1', payload: { email: 'admin@example.com', password: PASSWORD } });
      expect(String(res.headers['set-cookie'])).toMatch(/Secure/);
      // the same header from a client that is not the configured proxy is not believed
      const direct = await t.inject({ method: 'POST', url: '/auth/login', headers, remoteAddress: '10.0.0.9', payload: { email: 'admin@example.com', password: PASSWORD } });
      expect(direct.statusCode).toBe(200);
      expect(String(direct.headers['set-cookie'])).not.toMatch(/Secure/);
    });

    it('authenticates /api/v1 with the cookie, and refuses a change without the CSRF token', async () => {
      await ensureAdmin();
      const res = await login('admin@example.com', PASSWORD);
      expect(res.statusCode).toBe(200);
      const cookie = cookieOf(res);
      const csrf = res.json().csrfToken as string;
      const status = await t.inject({ method: 'GET', url: '/api/v1/status', headers: { cookie } });
      expect(status.json()).toMatchObject({ success: true, plan: 'unlimited' });

      const noToken = await t.inject({ method: 'POST', url: '/api/v1/keys', headers: { cookie } });
      expect(noToken.statusCode).toBe(403);
      expect(noToken.json()).toMatchObject({ code: 'csrf_failed' });
      const badToken = await t.inject({ method: 'POST', url: '/api/v1/send', headers: { cookie, 'x-csrf-token': 'x'.repeat(csrf.length) }, payload: { recipient: '12125551234', text: 'hi' } });
      expect(badToken.json()).toMatchObject({ code: 'csrf_failed' });

      const created = await t.inject({ method: 'POST', url: '/api/v1/keys', headers: { cookie, 'x-csrf-token': csrf } });
      expect(created.json()).toMatchObject({ success: true, apiKey: expect.stringMatching(/^msg_/) });
      const keys = (await t.inject({ method: 'GET', url: '/api/v1/keys', headers: { cookie } })).json().keys;
      expect(keys).toHaveLength(2);
      expect(JSON.stringify(keys)).not.toContain(created.json().apiKey);
      const revoked = await t.inject({ method: 'DELETE', url: `/api/v1/keys/${created.json().id}`, headers: { cookie, 'x-csrf-token': csrf } });
      expect(revoked.statusCode).toBe(200);
      const withRevoked = await t.inject({ method: 'GET', url: '/api/v1/status', headers: { 'x-api-key': created.json().apiKey } });
      expect(withRevoked.statusCode).toBe(401);
    });

    it('names an API key at creation and lists it by that name; an unnamed key has name null', async () => {
      const { apiKey } = await t.createAccount('trial', { email: 'names@example.com' });
      const headers = { 'x-api-key': apiKey };
      const named = await t.inject({ method: 'POST', url: '/api/v1/keys', headers, payload: { name: '  shop server ' } });
      expect(named.statusCode).toBe(200);
      expect(named.json()).toMatchObject({ success: true, name: 'shop server', apiKey: expect.stringMatching(/^msg_/) });
      const blank = await t.inject({ method: 'POST', url: '/api/v1/keys', headers, payload: { name: '   ' } });
      expect(blank.json()).toMatchObject({ success: true, name: null });
      const keys = (await t.inject({ method: 'GET', url: '/api/v1/keys', headers })).json().keys as Array<{ id: string; name: string | null }>;
      expect(keys.find((k) => k.id === named.json().id)?.name).toBe('shop server');
      expect(keys.find((k) => k.id === blank.json().id)?.name).toBeNull();
      // the first key, made with the account, has none
      expect(keys.filter((k) => k.name === null)).toHaveLength(2);

      const long = await t.inject({ method: 'POST', url: '/api/v1/keys', headers, payload: { name: 'x'.repeat(61) } });
      expect(long.statusCode).toBe(400);
      expect(long.json()).toMatchObject({ success: false, code: 'invalid_parameter' });
      const unknown = await t.inject({ method: 'POST', url: '/api/v1/keys', headers, payload: { label: 'shop' } });
      expect(unknown.statusCode).toBe(400);
      expect(unknown.json()).toMatchObject({ success: false });
    });

    it('does not let the cookie send through /send.php (a link elsewhere must not send in your name)', async () => {
      await ensureAdmin();
      const cookie = cookieOf(await login('admin@example.com', PASSWORD));
      const res = await t.inject({ method: 'GET', url: '/send.php?recipient=12125551234&text=hi', headers: { cookie } });
      expect(res.statusCode).toBe(401);
    });

    it('slows down repeated wrong passwords per account and per address', async () => {
      await ensureAdmin();
      const account = await t.createAccount('trial', { email: 'slow@example.com' });
      await setPassword(t.runtime.store, account.id, PASSWORD);
      for (let i = 0; i < 5; i++) expect((await login('slow@example.com', 'wrong password', '10.0.0.2')).statusCode).toBe(401);
      // now locked: even the right password waits, from any address
      const locked = await login('slow@example.com', PASSWORD, '10.0.0.3');
      expect(locked.statusCode).toBe(429);
      expect(locked.json()).toMatchObject({ code: 'too_many_requests' });
      expect(Number(locked.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      // and the address is locked for other accounts too
      expect((await login('admin@example.com', PASSWORD, '10.0.0.2')).statusCode).toBe(429);
      expect(Number(locked.headers['retry-after'])).toBe(2);
      now += 2000;
      expect((await login('slow@example.com', 'wrong again', '10.0.0.3')).statusCode).toBe(401);
      const doubled = await login('slow@example.com', PASSWORD, '10.0.0.3');
      expect(doubled.statusCode).toBe(429);
      expect(Number(doubled.headers['retry-after'])).toBe(4);
      now += 4000;
      expect((await login('slow@example.com', PASSWORD, '10.0.0.3')).statusCode).toBe(200);
      expect((await login('nobody@example.com', PASSWORD, '10.0.0.4')).json()).toMatchObject({ code: 'unauthorized', error: 'Wrong e-mail or password.' });
    });

    it('forgets expired sign-ins and old failures', async () => {
      const db = t.runtime.store.db;
      await t.runtime.store.write((tx) =>
        tx.insertInto('login_attempts').values({ key: 'email:old@example.com', failures: 9, last_failure_at: now - 2 * 3600_000, blocked_until: now - 3600_000 }).execute(),
      );
      await pruneLoginAttempts(t.runtime.store, now);
      expect(await db.selectFrom('login_attempts').select('key').where('key', '=', 'email:old@example.com').executeTakeFirst()).toBeUndefined();
      const before = Number((await db.selectFrom('browser_sessions').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
      await pruneBrowserSessions(t.runtime.store, now + 31 * 24 * 3600_000);
      const after = Number((await db.selectFrom('browser_sessions').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
      expect(before).toBeGreaterThan(0);
      expect(after).toBe(0);
    });

    it('signs out of this browser, and of every browser', async () => {
      await ensureAdmin();
      const a = await login('admin@example.com', PASSWORD, '10.0.0.5');
      const b = await login('admin@example.com', PASSWORD, '10.0.0.5');
      const refused = await t.inject({ method: 'POST', url: '/auth/logout', headers: { cookie: cookieOf(a) }, payload: {} });
      expect(refused.json()).toMatchObject({ code: 'csrf_failed' });
      const out = await t.inject({ method: 'POST', url: '/auth/logout', headers: { cookie: cookieOf(a), 'x-csrf-token': a.json().csrfToken }, payload: {} });
      expect(out.statusCode).toBe(200);
      expect((await t.inject({ method: 'GET', url: '/auth/state', headers: { cookie: cookieOf(a) } })).json().signedIn).toBe(false);
      expect((await t.inject({ method: 'GET', url: '/auth/state', headers: { cookie: cookieOf(b) } })).json().signedIn).toBe(true);
      const c = await login('admin@example.com', PASSWORD, '10.0.0.5');
      const all = await t.inject({ method: 'POST', url: '/auth/logout-everywhere', headers: { cookie: cookieOf(c), 'x-csrf-token': c.json().csrfToken }, payload: {} });
      expect(all.json().sessionsEnded).toBeGreaterThanOrEqual(2);
      expect((await t.inject({ method: 'GET', url: '/api/v1/status', headers: { cookie: cookieOf(b) } })).statusCode).toBe(401);
    });

    it('changes your own password with the current one, and signs out the other browsers', async () => {
      const account = await t.createAccount('trial', { email: 'changer@example.com' });
      await setPassword(t.runtime.store, account.id, PASSWORD);
      const a = await login('changer@example.com', PASSWORD, '10.0.1.1');
      const b = await login('changer@example.com', PASSWORD, '10.0.1.1');
      const headers = { cookie: cookieOf(a), 'x-csrf-token': a.json().csrfToken };
      const wrong = await t.inject({ method: 'POST', url: '/auth/password', headers, payload: { currentPassword: 'not it at all', newPassword: 'a brand new password' } });
      expect(wrong.statusCode).toBe(401);
      const changed = await t.inject({ method: 'POST', url: '/auth/password', headers, payload: { currentPassword: PASSWORD, newPassword: 'a brand new password' } });
      expect(changed.statusCode).toBe(200);
      expect((await t.inject({ method: 'GET', url: '/api/v1/status', headers: { cookie: cookieOf(b) } })).statusCode).toBe(401);
      expect((await t.inject({ method: 'GET', url: '/api/v1/status', headers: { cookie: cookieOf(changed) } })).statusCode).toBe(200);
      expect((await login('changer@example.com', 'a brand new password', '10.0.1.1')).statusCode).toBe(200);
    });

    it('takes only JSON on /auth, so a form on another site cannot post there', async () => {
      const res = await t.inject({ method: 'POST', url: '/auth/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'email=a@b.co&password=x' });
      expect(res.statusCode).toBe(415);
    });

    it('keeps sign-up closed unless configured', async () => {
      const res = await t.inject({ method: 'POST', url: '/auth/signup', payload: { email: 'new@example.com', password: PASSWORD } });
      expect(res.statusCode).toBe(403);
    });

    it('lets an admin search, create, change and reset accounts, and nobody else', async () => {
      await ensureAdmin();
      const admin = await login('admin@example.com', PASSWORD, '10.0.0.6');
      const headers = { cookie: cookieOf(admin), 'x-csrf-token': admin.json().csrfToken };
      const created = await t.inject({ method: 'POST', url: '/api/v1/admin/accounts', headers, payload: { email: 'Carol@Example.com', plan: 'personal', expiresAt: '2027-01-31', password: PASSWORD } });
      expect(created.json()).toMatchObject({ success: true, apiKey: expect.stringMatching(/^msg_/), account: { email: 'carol@example.com', plan: 'personal', hasPassword: true, subscriptionExpiresAt: '2027-01-31T23:59:59.999Z', state: 'connected' } });
      const id = created.json().account.id as string;
      const found = await t.inject({ method: 'GET', url: '/api/v1/admin/accounts?q=carol', headers });
      expect(found.json().accounts.map((a: { email: string }) => a.email)).toEqual(['carol@example.com']);
      const page1 = await t.inject({ method: 'GET', url: '/api/v1/admin/accounts?limit=1', headers });
      expect(page1.json().nextCursor).toBeTruthy();
      const page2 = await t.inject({ method: 'GET', url: `/api/v1/admin/accounts?limit=1&cursor=${page1.json().nextCursor}`, headers });
      expect(page2.json().accounts[0].email > page1.json().accounts[0].email).toBe(true);

      const carol = await login('carol@example.com', PASSWORD, '10.0.0.7');
      const carolHeaders = { cookie: cookieOf(carol), 'x-csrf-token': carol.json().csrfToken };
      expect((await t.inject({ method: 'GET', url: '/api/v1/admin/accounts', headers: carolHeaders })).statusCode).toBe(403);

      // A misspelt field is refused, not ignored: the admin would believe the change was made.
      const misspelt = await t.inject({ method: 'PATCH', url: `/api/v1/admin/accounts/${id}`, headers, payload: { plan: 'unlimited', enabled: false } });
      expect(misspelt.statusCode).toBe(400);
      expect(misspelt.json()).toMatchObject({ success: false, code: 'invalid_parameter', error: expect.stringContaining('enabled') });
      expect((await t.inject({ method: 'GET', url: `/api/v1/admin/accounts/${id}`, headers })).json().account.plan).toBe('personal');
      const patched = await t.inject({ method: 'PATCH', url: `/api/v1/admin/accounts/${id}`, headers, payload: { plan: 'unlimited', expiresAt: null, active: false } });
      expect(patched.json().account).toMatchObject({ plan: 'unlimited', subscriptionExpiresAt: null, active: false, subscriptionActive: false });
      // a disabled account's browser sessions stop working, and it cannot sign in
      const refused = await t.inject({ method: 'GET', url: '/api/v1/status', headers: carolHeaders });
      expect(refused.statusCode).toBe(403);
      expect(refused.json()).toMatchObject({ success: false, code: 'account_disabled' });
      expect((await login('carol@example.com', PASSWORD, '10.0.0.7')).json()).toMatchObject({ code: 'account_disabled' });
      await t.inject({ method: 'PATCH', url: `/api/v1/admin/accounts/${id}`, headers, payload: { active: true } });
      const reset = await t.inject({ method: 'POST', url: `/api/v1/admin/accounts/${id}/password`, headers, payload: { password: 'another long password' } });
      expect(reset.statusCode).toBe(200);
      expect((await login('carol@example.com', 'another long password', '10.0.0.7')).statusCode).toBe(200);
      const self = await t.inject({ method: 'PATCH', url: `/api/v1/admin/accounts/${admin.json().account.id}`, headers, payload: { active: false } });
      expect(self.statusCode).toBe(409);
      const detail = await t.inject({ method: 'GET', url: `/api/v1/admin/accounts/${id}`, headers });
      expect(detail.json().days).toHaveLength(7);
    });

    it('counts messages per day for the overview chart', async () => {
      const { apiKey } = await t.createAccount('unlimited');
      await t.inject({ method: 'POST', url: '/api/v1/send', headers: { 'x-api-key': apiKey }, payload: { recipient: '12125551234', text: 'a' } });
      await t.inject({ method: 'POST', url: '/api/v1/send', headers: { 'x-api-key': apiKey }, payload: { recipient: '12125550000', text: 'b' } });
      const res = await t.inject({ method: 'GET', url: '/api/v1/stats/daily', headers: { 'x-api-key': apiKey } });
      const days = res.json().days;
      expect(days).toHaveLength(7);
      expect(days[6]).toEqual({ date: '2026-11-25', sent: 1, failed: 1, pending: 0 });
      expect(days[0].date).toBe('2026-11-19');
    });
  });
}

for (const dialect of testDialects()) {
  describe(`self-sign-up behind SIGNUP_ENABLED (${dialect})`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp(dialect, { env: { SIGNUP_ENABLED: 'true' } });
    });
    afterAll(() => t.close());

    it('creates a Trial account, signs it in and shows its first key once', async () => {
      expect((await t.inject({ method: 'GET', url: '/auth/state' })).json()).toMatchObject({ signupEnabled: true });
      const res = await t.inject({ method: 'POST', url: '/auth/signup', payload: { email: 'New@Example.com', password: PASSWORD } });
      expect(res.json()).toMatchObject({ success: true, account: { email: 'new@example.com', plan: 'trial', isAdmin: false }, apiKey: expect.stringMatching(/^msg_/) });
      const status = await t.inject({ method: 'GET', url: '/api/v1/status', headers: { cookie: cookieOf(res) } });
      expect(status.json()).toMatchObject({ plan: 'trial', dailyLimit: 50 });
      const twice = await t.inject({ method: 'POST', url: '/auth/signup', payload: { email: 'new@example.com', password: PASSWORD } });
      expect(twice.statusCode).toBe(409);
    });
  });
}
