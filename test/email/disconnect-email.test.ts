import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordSessionChange } from '../../src/core/sessions.js';
import { testDialects } from '../helpers/databases.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { connectReceiver, fakeClock, sleep } from '../webhooks/helpers.js';
import { TestReceiver } from '../webhooks/receiver.js';
import { TestSmtp } from './smtp.js';

/** Moves the fake clock to each next e-mail attempt until `done` holds. */
async function runEmailSchedule(t: TestApp, clock: { now: number }, accountId: string, done: () => boolean | Promise<boolean>) {
  for (let i = 0; i < 300; i++) {
    if (await done()) return;
    const row = await t.runtime.store.db
      .selectFrom('outbox')
      .select((eb) => eb.fn.min<number>('run_at').as('next'))
      .where('kind', '=', 'email')
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    if (row?.next != null && Number(row.next) > clock.now) clock.now = Number(row.next);
    t.runtime.eventDelivery.kick();
    await sleep(25);
  }
  throw new Error('the e-mail schedule did not settle');
}

const unfold = (raw: string) => raw.replace(/=\r?\n/g, '').replace(/\r?\n[ \t]+/g, ' ');

for (const dialect of testDialects()) {
  describe(`disconnect e-mail (${dialect})`, () => {
    let t: TestApp;
    let smtp: TestSmtp;
    const clock = fakeClock();

    beforeAll(async () => {
      smtp = await TestSmtp.start();
      t = await startTestApp(dialect, {
        env: { SMTP_URL: smtp.url, MAIL_FROM: 'MessageAPI <alerts@gateway.example>', PUBLIC_URL: 'https://wa.example.com', ALLOW_PRIVATE_URLS: 'true' },
        clock: clock.read,
      });
    });
    afterAll(async () => {
      await t.close();
      await smtp.close();
    });

    const disconnect = (key: string, reason: string) =>
      t.inject({ method: 'POST', url: '/api/v1/sandbox/disconnect', headers: { 'x-api-key': key }, payload: { reason } });

    it('mails the account once when its number is logged out, on every plan, with text and HTML naming the number, reason, time and how to re-link', async () => {
      const { id, apiKey } = await t.createAccount('trial', { email: `owner-${dialect}@example.com` });
      const settings = (await t.inject({ method: 'GET', url: '/api/v1/settings', headers: { 'x-api-key': apiKey } })).json();
      expect(settings).toMatchObject({ mailConfigured: true, disconnectEmail: true });
      const phone = (await t.inject({ method: 'GET', url: '/api/v1/session', headers: { 'x-api-key': apiKey } })).json().phone as string;
      const before = smtp.mails.length;
      expect((await disconnect(apiKey, 'logged_out')).statusCode).toBe(200);
      await expect.poll(() => smtp.mails.length, { timeout: 5000 }).toBe(before + 1);
      const mail = smtp.mails.at(-1)!;
      expect(mail.to).toEqual([`owner-${dialect}@example.com`]);
      expect(mail.from).toBe('alerts@gateway.example');
      const raw = unfold(mail.raw);
      expect(raw).toMatch(/Content-Type: text\/plain/);
      expect(raw).toMatch(/Content-Type: text\/html/);
      expect(raw).toContain(`+${phone}`);
      expect(raw).toContain('logged_out');
      expect(raw).toMatch(/\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC/);
      expect(raw).toContain('https://wa.example.com/');
      expect(raw).toMatch(/Linked devices/);
      // A second "disconnected" while already disconnected is not a new disconnect.
      // An e-mail is queued in the transaction of the change, committed before the answer: none was.
      await disconnect(apiKey, 'logged_out');
      // The SMTP server has the mail before the worker has written its outcome: wait for that write.
      const rows = () => t.runtime.store.db.selectFrom('emails').selectAll().where('account_id', '=', id).execute();
      await expect.poll(rows, { timeout: 10_000 }).toMatchObject([{ status: 'sent', attempts: 1 }]);
      expect(smtp.mails.length).toBe(before + 1);
    });

    it('sends nothing for a blip that reconnects', async () => {
      const { id } = await t.createAccount('personal');
      const before = smtp.mails.length;
      await recordSessionChange(t.runtime.store, t.runtime.events, id, { state: 'reconnecting', phone: '12125551111', reason: 'connection_closed', qr: null, pairingCode: null, detail: null }, clock.now);
      await recordSessionChange(t.runtime.store, t.runtime.events, id, { state: 'connected', phone: '12125551111', reason: null, qr: null, pairingCode: null, detail: null }, clock.now);
      // Nothing queued in either change's transaction, so nothing can be sent later.
      expect(await t.runtime.store.db.selectFrom('emails').select('id').where('account_id', '=', id).execute()).toHaveLength(0);
      expect(smtp.mails.length).toBe(before);
    });

    it('retries through the outbox while the SMTP server refuses, and delivers exactly once', async () => {
      const { id, apiKey } = await t.createAccount('personal');
      const before = smtp.mails.length;
      smtp.refuseNext = 3;
      await disconnect(apiKey, 'connection_lost');
      await runEmailSchedule(t, clock, id, () => smtp.mails.length > before);
      // Recorded as sent with its job gone: nothing is left that could send it again.
      await expect.poll(async () => (await t.runtime.store.db.selectFrom('emails').select(['status', 'attempts']).where('account_id', '=', id).execute()), { timeout: 10_000 }).toEqual([{ status: 'sent', attempts: 4 }]);
      expect(await t.runtime.store.db.selectFrom('outbox').select('seq').where('account_id', '=', id).execute()).toHaveLength(0);
      expect(smtp.mails.length).toBe(before + 1);
      expect(unfold(smtp.mails.at(-1)!.raw)).toContain('connection_lost');
    });

    it('sends nothing when the account switched disconnect e-mails off', async () => {
      const { id, apiKey } = await t.createAccount('trial');
      await t.inject({ method: 'PATCH', url: '/api/v1/settings', headers: { 'x-api-key': apiKey }, payload: { disconnectEmail: false } });
      const before = smtp.mails.length;
      await disconnect(apiKey, 'logged_out');
      // Nothing queued in the disconnect's transaction, so nothing can be sent later.
      expect(await t.runtime.store.db.selectFrom('emails').select('id').where('account_id', '=', id).execute()).toHaveLength(0);
      expect(smtp.mails.length).toBe(before);
    });

    it('gives Unlimited accounts both the e-mail and the session.disconnected webhook', async () => {
      const receiver = await TestReceiver.start();
      try {
        const { apiKey } = await t.createAccount('unlimited');
        await connectReceiver(t, apiKey, receiver);
        const before = smtp.mails.length;
        await disconnect(apiKey, 'logged_out');
        await expect.poll(() => smtp.mails.length, { timeout: 10_000 }).toBe(before + 1);
        await expect.poll(() => receiver.events().map((e) => e.body.event), { timeout: 10_000 }).toEqual(['session.disconnected']);
      } finally {
        await receiver.close();
      }
    });
  });
}
