import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventRecorder, GatewayEvent } from '../../src/core/events.js';
import { testDialects } from '../helpers/databases.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { TestSmtp } from '../email/smtp.js';

const HOUR = 3_600_000;
const unfold = (raw: string) => raw.replace(/=\r?\n/g, '').replace(/\r?\n[ \t]+/g, ' ');

for (const dialect of testDialects()) {
  describe(`WhatsApp's limits: a restricted number (${dialect})`, () => {
    let t: TestApp;
    let smtp: TestSmtp;
    let now = Date.now();
    const headers = (key: string) => ({ 'x-api-key': key });

    beforeAll(async () => {
      smtp = await TestSmtp.start();
      t = await startTestApp(dialect, { clock: () => now, env: { SMTP_URL: smtp.url, MAIL_FROM: 'alerts@gateway.example' } });
    });
    afterAll(async () => {
      await t.close();
      await smtp.close();
    });

    const send = (key: string, to: string, extra: Record<string, unknown> = {}) => t.inject({ method: 'POST', url: '/api/v1/send', headers: headers(key), payload: { to, text: 'hi', ...extra } });
    const status = async (key: string) => (await t.inject({ method: 'GET', url: '/api/v1/status', headers: headers(key) })).json();
    const restrict = (key: string, payload: Record<string, unknown>) => t.inject({ method: 'POST', url: '/api/v1/sandbox/restrictions', headers: headers(key), payload });

    it('a 463 (sandbox …0463) fails with reachout_restricted and a sentence saying what it means, and is never retried', async () => {
      const { apiKey } = await t.createAccount('trial');
      const res = await send(apiKey, '4479000100463');
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'send_failed', messageId: expect.any(String) });
      const id = res.json().messageId as string;
      const message = (await t.inject({ method: 'GET', url: `/api/v1/messages/${id}`, headers: headers(apiKey) })).json();
      expect(message).toMatchObject({ status: 'failed', errorCode: 'reachout_restricted' });
      expect(message.error).toMatch(/463.*restricted this number from starting new chats.*do not retry/);
      expect(await t.runtime.store.db.selectFrom('outbox').select('seq').where('ref', '=', id).execute()).toEqual([]);
      expect(await t.runtime.store.db.selectFrom('sandbox_sends').select('seq').where('message_id', '=', id).execute()).toEqual([]);
    });

    it('status shows the timelock and the cap; while it holds, new chats are refused before WhatsApp (403), existing chats flow; an e-mail says so; lifting it lets new chats go again', async () => {
      const { apiKey } = await t.createAccount('trial', { email: `restricted-${dialect}@example.com` });
      expect((await status(apiKey)).restrictions).toEqual({ reachoutTimelock: { active: false, until: null }, newChatCap: { used: null, total: null, cycleEndsAt: null } });
      expect((await send(apiKey, '447900000201')).json().status).toBe('sent'); // an existing chat from now on
      const until = new Date(now + 2 * HOUR).toISOString();
      const cycleEndsAt = new Date(now + 7 * 24 * HOUR).toISOString();
      const mailsBefore = smtp.mails.length;
      expect((await restrict(apiKey, { timelockUntil: until, capUsed: 48, capTotal: 50, cycleEndsAt })).statusCode).toBe(200);
      expect((await status(apiKey)).restrictions).toEqual({ reachoutTimelock: { active: true, until }, newChatCap: { used: 48, total: 50, cycleEndsAt } });

      const known = await send(apiKey, '447900000201');
      expect(known.json()).toMatchObject({ success: true, status: 'sent' });
      const fresh = await send(apiKey, '447900000202');
      expect(fresh.statusCode).toBe(403);
      expect(fresh.json()).toMatchObject({ success: false, code: 'reachout_restricted' });
      expect(fresh.json().error).toMatch(/never chatted with.*reach-out timelock.*lifts at/);
      expect(fresh.json().messageId).toBeUndefined();
      expect(await t.runtime.store.db.selectFrom('messages').select('id').where('recipient', '=', '447900000202').execute()).toEqual([]);
      // In a bulk send, per item.
      const bulk = await t.inject({ method: 'POST', url: '/api/v1/send/bulk', headers: headers(apiKey), payload: { messages: [{ to: '447900000201', text: 'a' }, { to: '447900000203', text: 'b' }] } });
      expect(bulk.json().results.map((r: { code?: string }) => r.code ?? 'ok')).toEqual(['ok', 'reachout_restricted']);
      // Scheduled after it lifts: accepted.
      expect((await send(apiKey, '447900000204', { sendAt: new Date(now + 3 * HOUR).toISOString() })).json().status).toBe('scheduled');

      await expect.poll(() => smtp.mails.length, { timeout: 10_000 }).toBe(mailsBefore + 1);
      const mail = smtp.mails.at(-1)!;
      expect(mail.to).toEqual([`restricted-${dialect}@example.com`]);
      expect(unfold(mail.raw)).toMatch(/restricted your number from starting new chats/);
      // The same state reported again starts nothing new.
      await restrict(apiKey, { timelockUntil: until });
      expect(await t.runtime.store.db.selectFrom('emails').select('id').where('to_address', '=', `restricted-${dialect}@example.com`).execute()).toHaveLength(1);

      expect((await restrict(apiKey, { timelockUntil: null })).statusCode).toBe(200);
      expect((await status(apiKey)).restrictions.reachoutTimelock).toEqual({ active: false, until: null });
      expect((await send(apiKey, '447900000205')).json().status).toBe('sent');
    });

    it('an account without limits (on PostgreSQL its send is one statement) is held to the timelock the same way: existing chats go, new ones get 403', async () => {
      const { apiKey } = await t.createAccount('unlimited');
      expect((await send(apiKey, '447900000301')).json().status).toBe('sent');
      await restrict(apiKey, { timelockUntil: new Date(now + 2 * HOUR).toISOString() });
      expect((await send(apiKey, '447900000301')).json()).toMatchObject({ success: true, status: 'sent' });
      const fresh = await send(apiKey, '447900000302');
      expect(fresh.statusCode).toBe(403);
      expect(fresh.json()).toMatchObject({ success: false, code: 'reachout_restricted' });
      expect(await t.runtime.store.db.selectFrom('messages').select('id').where('recipient', '=', '447900000302').execute()).toEqual([]);
      await restrict(apiKey, { timelockUntil: null });
      expect((await send(apiKey, '447900000302')).json().status).toBe('sent');
    });

    it('a timelock whose end has passed no longer holds', async () => {
      const { apiKey } = await t.createAccount('trial');
      await restrict(apiKey, { timelockUntil: new Date(now + HOUR).toISOString() });
      expect((await send(apiKey, '447900000301')).statusCode).toBe(403);
      now += HOUR + 1000;
      expect((await status(apiKey)).restrictions.reachoutTimelock.active).toBe(false);
      expect((await send(apiKey, '447900000301')).json().status).toBe('sent');
    });
  });

  describe(`account.restricted and account.restriction_lifted (${dialect})`, () => {
    let t: TestApp;
    const seen: Array<{ accountId: string; event: GatewayEvent }> = [];
    const recorder: EventRecorder = {
      async record(_tx, accountId, event) {
        seen.push({ accountId, event });
      },
    };
    beforeAll(async () => {
      t = await startTestApp(dialect, { events: recorder });
    });
    afterAll(() => t.close());

    it('are raised once when a restriction starts and once when it ends', async () => {
      const { id, apiKey } = await t.createAccount('unlimited');
      const restrict = (payload: Record<string, unknown>) => t.inject({ method: 'POST', url: '/api/v1/sandbox/restrictions', headers: { 'x-api-key': apiKey }, payload });
      const until = new Date(Date.now() + HOUR).toISOString();
      await restrict({ timelockUntil: until });
      await restrict({ timelockUntil: until, capUsed: 1, capTotal: 50 });
      await restrict({ timelockUntil: null });
      const mine = seen.filter((s) => s.accountId === id).map((s) => s.event);
      expect(mine).toEqual([
        { event: 'account.restricted', restriction: { type: 'reachout_timelock', until } },
        { event: 'account.restriction_lifted', restriction: { type: 'reachout_timelock' } },
      ]);
    });
  });
}
