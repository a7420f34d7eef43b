import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptMessage } from '../../src/core/messages.js';
import { getAccount } from '../../src/core/accounts.js';
import { parseRecipient } from '../../src/core/recipients.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { testDialects } from '../helpers/databases.js';

for (const dialect of testDialects()) {
  describe(`plans and daily limits (${dialect})`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp(dialect);
    });
    afterAll(() => t.close());

    const send = (key: string, recipient: string, extra: Record<string, unknown> = {}) =>
      t.inject({ method: 'POST', url: '/api/v1/send', headers: { 'x-api-key': key }, payload: { recipient, text: 'hi', wait: 0, ...extra } });

    /** Uses up part of a Trial account's limit directly through the core, so the test starts with k left. */
    async function useUp(accountId: string, count: number) {
      const account = (await getAccount(t.runtime.store.db, accountId))!;
      for (let i = 0; i < count; i++) {
        await acceptMessage(t.runtime.store, t.runtime.config, account, { recipient: parseRecipient('12125551234'), kind: 'text', text: 'x', mediaUrl: null, filename: null }, t.runtime.clock());
      }
    }

    it('200 concurrent sends against a Trial account with 3 left accept exactly 3 and answer 429 to the rest', async () => {
      const { id, apiKey } = await t.createAccount('trial');
      await useUp(id, 47);
      const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => send(apiKey, `1212555${String(2000 + i)}`)));
      const ok = answers.filter((a) => a.statusCode === 200);
      const limited = answers.filter((a) => a.statusCode === 429);
      expect(ok).toHaveLength(3);
      expect(limited).toHaveLength(197);
      expect(limited[0]!.json()).toMatchObject({ success: false, code: 'daily_limit_reached' });
      // The sends just made leave the window in a day: said for people, and in Retry-After for programs.
      expect(limited[0]!.json().error).toMatch(/The next one can be sent in 2[34] h( \d{1,2} min)? \(Retry-After: \d+ seconds\)\.$/);
      expect(Number(limited[0]!.headers['retry-after'])).toBeGreaterThan(0);
      expect(limited[0]!.headers['ratelimit-remaining']).toBe('0');
      const logged = await t.runtime.store.db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', id).executeTakeFirstOrThrow();
      expect(Number(logged.n)).toBe(50);
      const status = (await t.inject({ method: 'GET', url: '/api/v1/status', headers: { 'x-api-key': apiKey } })).json();
      expect(status).toMatchObject({ dailyLimit: 50, messagesToday: 50, plan: 'trial' });
    });

    it('carries RateLimit headers on sends, counting down', async () => {
      const { apiKey } = await t.createAccount('trial');
      const first = await send(apiKey, '12125551234');
      const second = await send(apiKey, '12125551234');
      expect(first.headers['ratelimit-limit']).toBe('50');
      expect(first.headers['ratelimit-remaining']).toBe('49');
      expect(second.headers['ratelimit-remaining']).toBe('48');
      expect(Number(second.headers['ratelimit-reset'])).toBeGreaterThan(0);
    });

    it('omits RateLimit headers on Unlimited and reports dailyLimit null', async () => {
      const { apiKey } = await t.createAccount('unlimited');
      const res = await send(apiKey, '12125551234');
      expect(res.headers['ratelimit-limit']).toBeUndefined();
      const status = (await t.inject({ method: 'GET', url: '/api/v1/status', headers: { 'x-api-key': apiKey } })).json();
      expect(status.dailyLimit).toBeNull();
    });

    it('does not count failed messages against the limit', async () => {
      const { apiKey } = await t.createAccount('trial');
      const failed = await t.inject({ method: 'POST', url: '/api/v1/send', headers: { 'x-api-key': apiKey }, payload: { recipient: '12125550000', text: 'x' } });
      expect(failed.json().code).toBe('send_failed');
      const status = (await t.inject({ method: 'GET', url: '/api/v1/status', headers: { 'x-api-key': apiKey } })).json();
      expect(status.messagesToday).toBe(0);
    });

    it('Personal: a send that fails (number not on WhatsApp) gives its recipient slot back', async () => {
      const { apiKey } = await t.createAccount('personal');
      const settings = async () => (await t.inject({ method: 'GET', url: '/api/v1/settings', headers: { 'x-api-key': apiKey } })).json().allowedRecipients;
      for (const r of ['447700900101', '447700900102', '447700900103', '447700900104']) expect((await send(apiKey, r, { wait: undefined })).statusCode).toBe(200);
      // The sandbox answers "not on WhatsApp" for numbers ending in 0000.
      const failed = await send(apiKey, '447700910000', { wait: undefined });
      expect(failed.json()).toMatchObject({ success: false, code: 'send_failed' });
      expect(await settings()).toEqual(['447700900101', '447700900102', '447700900103', '447700900104']);
      // So the fifth slot is still free for a real number, and then the plan's maximum holds.
      expect((await send(apiKey, '447700900105', { wait: undefined })).statusCode).toBe(200);
      const sixth = await send(apiKey, '447700900106', { wait: undefined });
      expect(sixth.statusCode).toBe(403);
      expect(sixth.json().code).toBe('plan_restriction');
      expect(await settings()).toHaveLength(5);
    });

    it('Personal: 20 concurrent sends to 10 distinct recipients admit exactly 5 recipients; a 6th is refused with 403', async () => {
      const { id, apiKey } = await t.createAccount('personal');
      // None ends in 0000, which the sandbox answers as not on WhatsApp (a failure frees its slot).
      const recipients = Array.from({ length: 10 }, (_, i) => `4477009001${String(i).padStart(2, '0')}`);
      const answers = await Promise.all([...recipients, ...recipients].map((r) => send(apiKey, r)));
      const acceptedRecipients = new Set(answers.flatMap((a, i) => (a.statusCode === 200 ? [[...recipients, ...recipients][i]] : [])));
      expect(acceptedRecipients.size).toBe(5);
      for (const a of answers.filter((x) => x.statusCode !== 200)) {
        expect(a.statusCode).toBe(403);
        expect(a.json().code).toBe('plan_restriction');
      }
      const allowed = await t.runtime.store.db.selectFrom('allowed_recipients').select('recipient').where('account_id', '=', id).execute();
      expect(new Set(allowed.map((r) => r.recipient))).toEqual(acceptedRecipients);
      // An allowed recipient keeps working.
      expect((await send(apiKey, [...acceptedRecipients][0]!)).statusCode).toBe(200);
    });

    it('refuses groups below Unlimited with plan_restriction', async () => {
      for (const plan of ['trial', 'personal']) {
        const { apiKey } = await t.createAccount(plan);
        const res = await send(apiKey, '120363012345678901@g.us');
        expect(res.statusCode).toBe(403);
        expect(res.json().code).toBe('plan_restriction');
        const groups = await t.inject({ method: 'GET', url: '/api/v1/groups', headers: { 'x-api-key': apiKey } });
        expect(groups.statusCode).toBe(403);
      }
    });

    it('answers 403 subscription_inactive when the subscription has expired, while status and look-ups still work', async () => {
      const { id, apiKey } = await t.createAccount('unlimited');
      const sent = await send(apiKey, '12125551234');
      await t.runtime.store.write((tx) => tx.updateTable('accounts').set({ subscription_expires_at: Date.now() - 1000 }).where('id', '=', id).execute());
      const res = await send(apiKey, '12125551234');
      expect(res.statusCode).toBe(403);
      expect(res.json()).toMatchObject({ success: false, code: 'subscription_inactive' });
      expect(res.json().error).toMatch(/expired/);
      const status = await t.inject({ method: 'GET', url: '/api/v1/status', headers: { 'x-api-key': apiKey } });
      expect(status.statusCode).toBe(200);
      expect(status.json().subscriptionActive).toBe(false);
      const lookup = await t.inject({ method: 'GET', url: `/api/v1/messages/${sent.json().messageId}`, headers: { 'x-api-key': apiKey } });
      expect(lookup.statusCode).toBe(200);
    });

    it('takes plan limits from configuration', async () => {
      const small = await startTestApp(dialect, { env: { PLAN_TRIAL_DAILY_LIMIT: '2' } });
      try {
        const { apiKey } = await small.createAccount('trial');
        const codes = [];
        for (let i = 0; i < 3; i++) {
          codes.push((await small.inject({ method: 'POST', url: '/api/v1/send', headers: { 'x-api-key': apiKey }, payload: { recipient: '12125551234', text: 'x', wait: 0 } })).statusCode);
        }
        expect(codes).toEqual([200, 200, 429]);
      } finally {
        await small.close();
      }
    });

    it('frees a slot when the oldest counted message leaves the rolling window', async () => {
      let now = Date.UTC(2026, 10, 24, 10, 0, 0);
      const timed = await startTestApp(dialect, { env: { PLAN_TRIAL_DAILY_LIMIT: '1' }, clock: () => now });
      try {
        const { apiKey } = await timed.createAccount('trial');
        const post = () => timed.inject({ method: 'POST', url: '/api/v1/send', headers: { 'x-api-key': apiKey }, payload: { recipient: '12125551234', text: 'x', wait: 0 } });
        expect((await post()).statusCode).toBe(200);
        now += 60 * 60 * 1000;
        const limited = await post();
        expect(limited.statusCode).toBe(429);
        expect(Number(limited.headers['retry-after'])).toBeGreaterThan(22 * 3600);
        expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(23 * 3600);
        now += 23 * 60 * 60 * 1000 + 60_000;
        expect((await post()).statusCode).toBe(200);
      } finally {
        await timed.close();
      }
    });
  });
}
