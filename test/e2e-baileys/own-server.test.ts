import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount as addAccount } from '../../src/core/accounts.js';
import { Store } from '../../src/store/store.js';
import { AuthStateStore } from '../../src/whatsapp/baileys/auth-state-store.js';
import { ensureBuilt } from '../baileys/ensure-built.js';
import { linkedCreds } from '../baileys/fake-socket.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../helpers/databases.js';
import { ROOT, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { baileysGatewayEnv, webhookReceiver } from '../helpers/e2e-gateway.js';
import { TestSmtp } from '../email/smtp.js';
import { startServer, tinyPdf, tinyPng, type TestServer } from '../media/fixtures.js';
import { MEDIA_HOST_CA } from '../whatsapp-server/media-host.js';
import { WhatsAppTestServer } from '../whatsapp-server/server.js';

/**
 * The real driver end to end against our own WhatsApp Web test server (test/whatsapp-server):
 * `messageapi serve` with WHATSAPP_DRIVER=baileys and the unmodified Baileys socket. A number is
 * linked the way a user does it — the QR from our API scanned by the test phone, or the pairing
 * code from our API typed into it — gets the phone's history sync, comes back after a restart,
 * sends text, an image, a PDF and group messages that the recipients' devices decrypt, gets
 * delivery, read and retry receipts, receives direct and group messages as webhooks, logs out,
 * and is thrown out by the server (conflict, logged out) as WhatsApp does it. It is killed between
 * the server taking a message and the gateway recording it (sent again under the same id, shown
 * once), has a message refused that the recipient cannot open (retried, not recorded sent), and
 * keeps its Signal sessions across a restart. Only loopback traffic.
 */

const SECRET = 'e2e-own-server-test-secret-0123456789';
const PEER = '12125550123';
/** A number the test server says is not on WhatsApp. */
const NOBODY = '19995550000';
/** The seeded device's number, and a group it is in. */
const SEEDED = '15550303030';
const GROUP = { id: '120363000000000042@g.us', subject: 'Suppliers', members: [SEEDED, PEER, '12125550199'] };

/**
 * For a test that may link devices or seed one and restart the gateway first (when it runs alone,
 * with -t, and the test that did it in file order did not run): room for that too on a busy machine.
 */
const SEEDS_OR_LINKS_MS = 90_000;

interface SessionAnswer {
  state: string;
  phone: string | null;
  reason: string | null;
  qr: string | null;
  qrDataUrl: string | null;
  pairingCode: string | null;
  detail: string | null;
}

interface Account {
  id: string;
  apiKey: string;
}

for (const dialect of testDialects()) describe(`linking, receipts, media and server-pushed disconnects through the real driver (${dialect})`, () => {
  const whatsapp = new WhatsAppTestServer({ notOnWhatsApp: [NOBODY] });
  let database: TestDatabase;
  let gateway: ServerProcess;
  let media: TestServer;
  let receiver: Awaited<ReturnType<typeof webhookReceiver>>;
  let smtp: TestSmtp;
  let reads: Store;
  let env: Record<string, string>;
  /** The seeded device's account, once `seedDevice` put it in place (see `ensureSeeded`). */
  let seededAccount: Account | undefined;
  /** Linked for real by the first tests (QR, pairing code) or by `ensureLinked`; the restart in the media test brings them back. */
  const linkedForReal = new Map<'qr' | 'code', { account: Account; phone: string }>();
  const hookUrl = () => receiver.url;

  /** Made in the database as `messageapi accounts create` makes it (test/cli/cli.test.ts runs the command): no process for each. */
  const createAccount = async (email: string): Promise<Account> => {
    const { id, apiKey } = await addAccount(reads, { email, plan: 'unlimited' }, Date.now());
    return { id, apiKey };
  };

  const api = async <T>(account: Account, method: string, url: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${gateway.url}${url}`, {
      method,
      headers: { 'X-API-Key': account.apiKey, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: (await res.json()) as T };
  };
  const session = async (account: Account) => (await api<SessionAnswer>(account, 'GET', '/api/v1/session')).body;
  const admin = async (call: string, body: unknown) => {
    const res = await fetch(`${whatsapp.adminUrl}/${call}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const answer = (await res.json()) as Record<string, unknown>;
    if (res.status !== 200) throw new Error(`admin ${call}: ${JSON.stringify(answer)}`);
    return answer;
  };
  const waMessageId = async (messageId: string) => (await reads.db.selectFrom('messages').select('wa_message_id').where('id', '=', messageId).executeTakeFirstOrThrow()).wa_message_id!;
  /**
   * The gateway dies at once (SIGKILL) and starts again. Its session lease would keep the number
   * from reconnecting until it runs out (a minute); here it is run out at once, as the clock would.
   */
  const killAndRestart = async () => {
    await gateway.kill('SIGKILL');
    await reads.write((tx) => tx.updateTable('wa_session_leases').set({ expires_at: 0 }).execute());
    gateway = await startServerProcess(env);
  };
  const connected = (account: Account, timeout = 20_000) => expect.poll(async () => (await session(account)).state, { timeout, interval: 50 }).toBe('connected');
  /** The QR from our API, scanned by `phone`: answers the new device's jid once the session is connected. */
  const linkByQr = async (account: Account, phone: string) => {
    const linking = await api<SessionAnswer>(account, 'POST', '/api/v1/session/link');
    const { jid } = await admin('scan', { qr: linking.body.qr, phone });
    await connected(account);
    return jid as string;
  };
  /** The pairing code from our API, typed into `phone`'s phone: once the session is connected. */
  const linkByCode = async (account: Account, phone: string) => {
    const pairing = await api<SessionAnswer>(account, 'POST', '/api/v1/session/pair', { phone: `+${phone}` });
    await admin('pairing-code', { phone, code: pairing.body.pairingCode });
    await connected(account);
  };
  /**
   * The device the linking test of that kind (QR, pairing code) linked; when that test did not run
   * before (a test run alone with -t), one is linked here the same way, through the test server.
   */
  const ensureLinked = async (how: 'qr' | 'code') => {
    const done = linkedForReal.get(how);
    if (done) return done;
    const phone = how === 'qr' ? '15550101010' : '15550202020';
    const account = await createAccount(`${how === 'qr' ? 'qr' : 'code'}@example.com`);
    if (how === 'qr') await linkByQr(account, phone);
    else await linkByCode(account, phone);
    const linked = { account, phone };
    linkedForReal.set(how, linked);
    return linked;
  };
  /**
   * A device linked earlier (creds in our encrypted store, past its first history sync) and
   * registered with WhatsApp under its keys, which it must log in with; the gateway restarts to take
   * it up. Answers once its session is connected.
   */
  const seedDevice = async () => {
    const account = await createAccount('media@example.com');
    const seed = Store.open(database.url);
    const creds = linkedCreds(SEEDED);
    creds.accountSyncCounter = 1;
    whatsapp.registerDevice(creds.me!.id, { noiseKey: Buffer.from(creds.noiseKey.public), identityKey: Buffer.from(creds.signedIdentityKey.public) });
    await new AuthStateStore(seed, SECRET).saveCreds(account.id, creds);
    await seed.close();
    await gateway.kill('SIGTERM');
    gateway = await startServerProcess(env);
    await connected(account);
    return account;
  };
  /** The seeded device the media test put in place, or — when that test did not run before — seeded here. */
  const ensureSeeded = async () => (seededAccount ??= await seedDevice());
  const send = async (account: Account, body: Record<string, unknown>, endpoint = '/api/v1/send') => {
    const res = await api<{ success: boolean; messageId: string; status: string }>(account, 'POST', endpoint, { recipient: PEER, ...body });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.status).toBe('sent');
    return res.body.messageId;
  };

  beforeAll(async () => {
    ensureBuilt(ROOT);
    database = await createTestDatabase(dialect);
    await whatsapp.start();
    whatsapp.addGroup(GROUP);
    media = await startServer((req, res) => {
      if (req.url === '/photo.png') res.writeHead(200, { 'Content-Type': 'image/png' }).end(tinyPng());
      else if (req.url === '/invoice.pdf') res.writeHead(200, { 'Content-Type': 'application/pdf' }).end(tinyPdf());
      else res.writeHead(404).end();
    });
    receiver = await webhookReceiver();
    smtp = await TestSmtp.start();
    env = baileysGatewayEnv(database, whatsapp.webSocketUrl, SECRET, {
      SMTP_URL: smtp.url,
      // Baileys uploads media over HTTPS only; the test media host's certificate is trusted here.
      NODE_EXTRA_CA_CERTS: MEDIA_HOST_CA,
      ALLOW_PRIVATE_URLS: 'true',
      // A killed process's claim on the message it was sending lapses quickly (the crash test).
      OUTBOX_LOCK_MS: '1500',
      // …and so does its session lease (PostgreSQL): the restarted process runs its sessions soon after.
      SESSION_LEASE_MS: '3000',
      SESSION_LEASE_RENEW_MS: '500',
      SESSION_SEND_MARGIN_MS: '1000',
    });
    reads = Store.open(database.url);
    gateway = await startServerProcess(env);
  }, 120_000);

  afterAll(async () => {
    await gateway?.kill('SIGTERM');
    await whatsapp.stop();
    await media?.close();
    await receiver?.close();
    await smtp?.close();
    await reads?.close();
    await database?.drop();
  });

  it('links by QR: our API shows the QR, the phone scans it, and the session is connected with its number', async () => {
    const account = await createAccount('qr@example.com');
    expect((await api(account, 'PATCH', '/api/v1/settings', { webhookUrl: hookUrl() })).status).toBe(200);
    // The phone holds an old chat: it comes with the first history sync and must not become a webhook.
    whatsapp.setHistory('15550101010', [{ from: PEER, text: 'an old message from last week', at: Date.now() - 7 * 86_400_000 }]);
    expect((await session(account)).state).toBe('unlinked');
    const linking = await api<SessionAnswer>(account, 'POST', '/api/v1/session/link');
    expect(linking.status).toBe(200);
    expect(linking.body.state).toBe('linking');
    expect(linking.body.qr).toMatch(/^https:\/\/wa\.me\/settings\/linked_devices#/);
    expect(linking.body.qrDataUrl).toMatch(/^data:image\/png;base64,/);
    const { jid } = await admin('scan', { qr: linking.body.qr, phone: '15550101010' });
    await connected(account);
    const linked = await session(account);
    expect(linked.phone).toBe('15550101010');
    expect(linked.qr).toBeNull();
    expect(whatsapp.loggedInDevices).toContain(jid);
    linkedForReal.set('qr', { account, phone: '15550101010' });

    const messageId = await send(account, { text: 'first message from a freshly linked number' });
    const id = await waMessageId(messageId);
    const received = whatsapp.received.find((m) => m.id === id);
    expect(received?.message?.conversation ?? received?.message?.extendedTextMessage?.text).toBe('first message from a freshly linked number');

    // Right after linking, a new message arrives at once (the history sync came; no wait for it).
    const started = Date.now();
    const inbound = await admin('inbound', { from: PEER, phone: '15550101010', text: 'welcome aboard', pushName: 'Ann' });
    await expect.poll(() => receiver.bodies.find((w) => w.event === 'message.received' && (w.message as { id: string }).id === inbound.id), { timeout: 15_000 }).toBeDefined();
    expect(Date.now() - started).toBeLessThan(10_000);
    const texts = receiver.bodies.filter((w) => w.event === 'message.received').map((w) => (w.message as { text: string }).text);
    expect(texts).not.toContain('an old message from last week');
    expect(texts).toEqual(['welcome aboard']);
  });

  it('links by pairing code: our API gives the code, the phone types it, and the session is connected', async () => {
    const account = await createAccount('code@example.com');
    const pairing = await api<SessionAnswer>(account, 'POST', '/api/v1/session/pair', { phone: '+1 555 020 2020' });
    expect(pairing.status).toBe(200);
    expect(pairing.body.state).toBe('linking');
    expect(pairing.body.pairingCode).toMatch(/^[A-Z0-9]{8}$/);
    await admin('pairing-code', { phone: '15550202020', code: pairing.body.pairingCode });
    await connected(account);
    expect((await session(account)).phone).toBe('15550202020');
    linkedForReal.set('code', { account, phone: '15550202020' });
  });

  it('after a gateway restart (the QR- and code-linked devices come back from their stored creds), a seeded device sends text, an image and a PDF that the recipient opens intact, and receipts fill deliveredAt and readAt', async () => {
    // Devices linked by QR and by pairing code (by the linking tests, or here when run alone)…
    const linkedBefore = [await ensureLinked('qr'), await ensureLinked('code')];
    // …then the seeded device is put in place and the gateway restarts to take it up.
    const account = (seededAccount = await seedDevice());
    // The devices linked by QR and by pairing code come back from their stored creds, not re-linked.
    for (const linked of linkedBefore) {
      await connected(linked.account);
      expect((await session(linked.account)).phone).toBe(linked.phone);
    }

    const text = await waMessageId(await send(account, { text: 'an invoice follows' }));
    const image = await waMessageId(await send(account, { image: `${media.origin}/photo.png`, caption: 'the photo' }, '/api/v1/send/image'));
    const pdf = await waMessageId(await send(account, { document: `${media.origin}/invoice.pdf`, filename: 'invoice-42.pdf' }, '/api/v1/send/document'));
    const byId = (id: string) => whatsapp.received.find((m) => m.id === id)!;
    expect(byId(text).to).toBe(`${PEER}@s.whatsapp.net`);
    expect(byId(text).message?.conversation ?? byId(text).message?.extendedTextMessage?.text).toBe('an invoice follows');
    expect(byId(image).message?.imageMessage).toMatchObject({ caption: 'the photo', mimetype: 'image/png' });
    expect(byId(image).media?.equals(tinyPng())).toBe(true);
    const document = byId(pdf).message?.documentMessage ?? byId(pdf).message?.documentWithCaptionMessage?.message?.documentMessage;
    expect(document).toMatchObject({ fileName: 'invoice-42.pdf', mimetype: 'application/pdf' });
    expect(byId(pdf).media?.equals(tinyPdf())).toBe(true);

    const textMessageId = (await reads.db.selectFrom('messages').select('id').where('wa_message_id', '=', text).executeTakeFirstOrThrow()).id;
    const message = async () => (await api<{ deliveredAt: string | null; readAt: string | null }>(account, 'GET', `/api/v1/messages/${textMessageId}`)).body;
    expect(await message()).toMatchObject({ deliveredAt: null, readAt: null });
    // The receipt events are opt-in: this receiver asks for them beside the four defaults (the later tests want those).
    const webhookEvents = ['message.received', 'message.sent', 'message.failed', 'session.disconnected', 'message.delivered', 'message.read'];
    const hook = await api(account, 'PATCH', '/api/v1/settings', { webhookUrl: hookUrl(), webhookEvents });
    expect(hook.status, JSON.stringify(hook.body)).toBe(200);
    const receiptEvent = (event: string) => receiver.bodies.find((w) => w.event === event && (w.message as { id: string }).id === textMessageId);
    await admin('receipt', { id: text, type: 'delivery' });
    await expect.poll(async () => (await message()).deliveredAt, { timeout: 10_000 }).not.toBeNull();
    expect((await message()).readAt).toBeNull();
    await expect.poll(() => receiptEvent('message.delivered'), { timeout: 15_000 }).toMatchObject({ message: { id: textMessageId, recipient: PEER, type: 'text', status: 'delivered' } });
    await admin('receipt', { id: text, type: 'read' });
    await expect.poll(async () => (await message()).readAt, { timeout: 10_000 }).not.toBeNull();
    await expect.poll(() => receiptEvent('message.read'), { timeout: 15_000 }).toMatchObject({ message: { id: textMessageId, recipient: PEER, type: 'text', status: 'read' } });
    // Each receipt is reported once; its time is the one the message shows.
    expect(receiver.bodies.filter((w) => ['message.delivered', 'message.read'].includes(w.event as string) && (w.message as { id: string }).id === textMessageId)).toHaveLength(2);
    expect((receiptEvent('message.read')!.message as { timestamp: string }).timestamp).toBe((await message()).readAt);
  }, SEEDS_OR_LINKS_MS);

  it('groups: GET /api/v1/groups lists the number\'s groups; a send to one is opened by its members, and their receipts fill deliveredAt and readAt', async () => {
    const seeded = await ensureSeeded();
    await expect
      .poll(async () => (await api<{ success: boolean; groups: unknown[] }>(seeded, 'GET', '/api/v1/groups')).body.groups, { timeout: 10_000 })
      .toEqual([{ id: GROUP.id, name: 'Suppliers', participants: 3 }]);
    const res = await api<{ messageId: string; status: string }>(seeded, 'POST', '/api/v1/send', { recipient: GROUP.id, text: 'price list attached tomorrow' });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('sent');
    const id = await waMessageId(res.body.messageId);
    const got = whatsapp.received.find((m) => m.id === id);
    expect(got?.to).toBe(GROUP.id);
    expect(got?.error).toBeUndefined();
    expect(got?.message?.conversation ?? got?.message?.extendedTextMessage?.text).toBe('price list attached tomorrow');
    // A member's receipts fill the times too (the first delivery, the first read).
    const message = async () => (await api<{ deliveredAt: string | null; readAt: string | null }>(seeded, 'GET', `/api/v1/messages/${res.body.messageId}`)).body;
    await admin('receipt', { id, type: 'delivery' });
    await expect.poll(async () => (await message()).deliveredAt, { timeout: 10_000 }).not.toBeNull();
    await admin('receipt', { id, type: 'read' });
    await expect.poll(async () => (await message()).readAt, { timeout: 10_000 }).not.toBeNull();
  }, SEEDS_OR_LINKS_MS);

  it('an inbound group message becomes a message.received webhook with the group and the participant', async () => {
    const seeded = await ensureSeeded();
    expect((await api(seeded, 'PATCH', '/api/v1/settings', { webhookUrl: hookUrl() })).status).toBe(200);
    const { id } = await admin('inbound', { from: '12125550199', phone: SEEDED, group: GROUP.id, text: 'who brings the samples?', pushName: 'Bo' });
    await expect
      .poll(() => receiver.bodies.find((w) => w.event === 'message.received' && (w.message as { id: string }).id === id), { timeout: 15_000 })
      .toMatchObject({ message: { id, from: '12125550199', pushName: 'Bo', type: 'text', text: 'who brings the samples?', isGroup: true, groupId: GROUP.id, participant: '12125550199' } });
  }, SEEDS_OR_LINKS_MS);

  it('a retry receipt after a restart ("waiting for this message"): the message is sent again from our log, under its id', async () => {
    const seeded = await ensureSeeded();
    const text = await waMessageId(await send(seeded, { text: 'the order number is 4471' }));
    const image = await waMessageId(await send(seeded, { image: `${media.origin}/photo.png`, caption: 'the label' }, '/api/v1/send/image'));
    await gateway.kill('SIGTERM');
    gateway = await startServerProcess(env);
    await connected(seeded);
    await admin('receipt', { id: text, type: 'retry' });
    await admin('receipt', { id: image, type: 'retry' });
    const copies = (id: string) => whatsapp.deliveries.filter((m) => m.id === id);
    await expect.poll(() => copies(text).length + copies(image).length, { timeout: 15_000 }).toBe(4);
    const again = copies(text)[1]!;
    expect(again.error).toBeUndefined();
    expect(again.message?.conversation ?? again.message?.extendedTextMessage?.text).toBe('the order number is 4471');
    // The media itself is gone with the process that sent it: the phone gets a text stand-in rather than nothing.
    expect(copies(image)[1]!.message?.conversation).toBe('🖼 Image: the label');
  }, SEEDS_OR_LINKS_MS);

  it('a number WhatsApp does not know: send_failed with the message id, logged failed, nothing relayed', async () => {
    const seeded = await ensureSeeded();
    const res = await api<{ success: boolean; code: string; error: string; messageId: string }>(seeded, 'POST', '/api/v1/send', { recipient: NOBODY, text: 'anyone there?' });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ success: false, code: 'send_failed' });
    expect(res.body.error).toMatch(/not on WhatsApp/);
    const logged = await api<{ status: string; error: string }>(seeded, 'GET', `/api/v1/messages/${res.body.messageId}`);
    expect(logged.body).toMatchObject({ status: 'failed' });
    expect(whatsapp.received.some((m) => m.to.startsWith(NOBODY))).toBe(false);
  }, SEEDS_OR_LINKS_MS);

  it('an inbound message, end-to-end encrypted by the contact\'s device, becomes a message.received webhook', async () => {
    const seeded = await ensureSeeded();
    expect((await api(seeded, 'PATCH', '/api/v1/settings', { webhookUrl: hookUrl() })).status).toBe(200);
    const { id } = await admin('inbound', { from: PEER, phone: SEEDED, text: 'got the invoice, thanks', pushName: 'Ann' });
    await expect
      .poll(() => receiver.bodies.find((w) => w.event === 'message.received' && (w.message as { id: string }).id === id), { timeout: 15_000 })
      .toMatchObject({ message: { id, from: PEER, pushName: 'Ann', type: 'text', text: 'got the invoice, thanks', isGroup: false, groupId: null, participant: null } });
  }, SEEDS_OR_LINKS_MS);

  it('logout through our API unlinks the device at WhatsApp too; linking again gives a new device', async () => {
    const account = await createAccount('relink@example.com');
    const first = await linkByQr(account, '15550606060');
    const out = await api<{ success: boolean }>(account, 'POST', '/api/v1/session/logout');
    expect(out.status).toBe(200);
    expect((await session(account)).state).toBe('unlinked');
    await expect.poll(() => whatsapp.wasRemoved(first), { timeout: 5_000 }).toBe(true);
    expect(whatsapp.loggedInDevices).not.toContain(first);
    const second = await linkByQr(account, '15550606060');
    expect(second).not.toBe(first);
    expect((await session(account)).phone).toBe('15550606060');
  });

  it('conflict (440) pushed by the server: disconnected as connection_replaced, no reconnect fight, sends refused', async () => {
    const account = await createAccount('conflict@example.com');
    const jid = await linkByQr(account, '15550404040');
    await admin('stream-error', { jid, kind: 'conflict' });
    await expect.poll(async () => (await session(account)).state, { timeout: 10_000 }).toBe('disconnected');
    expect((await session(account)).reason).toBe('connection_replaced');
    // The runner logs this as it stops for good (session-lifecycle.test.ts shows, on a fake clock,
    // that no reconnect follows in an hour); by then this device is off the server.
    await expect.poll(() => gateway.output(), { timeout: 10_000 }).toContain('this server stopped it');
    expect(whatsapp.loggedInDevices).not.toContain(jid);
    const refused = await api<{ code: string }>(account, 'POST', '/api/v1/send', { recipient: PEER, text: 'not now' });
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('not_connected');
  });

  it('logged out (401) pushed by the server: disconnected as logged_out, creds cleared, session.disconnected webhook and e-mail', async () => {
    const account = await createAccount('logout@example.com');
    const hook = await api(account, 'PATCH', '/api/v1/settings', { webhookUrl: hookUrl() });
    expect(hook.status).toBe(200);
    const jid = await linkByQr(account, '15550505050');
    await admin('stream-error', { jid, kind: 'logged_out' });
    await expect.poll(async () => (await session(account)).state, { timeout: 10_000 }).toBe('disconnected');
    expect((await session(account)).reason).toBe('logged_out');
    const creds = await reads.db.selectFrom('wa_auth_creds').select('account_id').where('account_id', '=', account.id).execute();
    expect(creds).toEqual([]);
    await expect
      .poll(() => receiver.bodies.find((w) => w.event === 'session.disconnected' && w.phone === '15550505050'), { timeout: 15_000 })
      .toMatchObject({ event: 'session.disconnected', phone: '15550505050', reason: 'logged_out' });
    await expect.poll(() => smtp.mails.find((m) => m.to.includes('logout@example.com')), { timeout: 15_000 }).toBeDefined();
    const sent = smtp.mails.find((m) => m.to.includes('logout@example.com'))!;
    expect(sent.raw).toMatch(/WhatsApp disconnected/);
    expect(sent.raw).toContain('15550505050');
    // Nothing for the replaced session (440) nor for the gateway restart (a blip): one e-mail in all.
    expect(smtp.mails.flatMap((m) => m.to)).toEqual(['logout@example.com']);
  });

  it('SIGKILL after WhatsApp has the message and before the gateway recorded it: after the restart it goes out again under the same id, and the recipient\'s phone shows it once', async () => {
    // What it models: WhatsApp's apps keep one message per chat and id, so a copy under an id the
    // chat already shows is dropped — that is what makes "sent again under the same id" safe.
    const account = await createAccount('crash@example.com');
    expect((await api(account, 'PATCH', '/api/v1/settings', { webhookUrl: hookUrl() })).status).toBe(200);
    const phone = '15550808080';
    const contact = '12125550180';
    await linkByQr(account, phone);
    // The gateway records `sent` on the server's ack: while the acks are held it waits, in the window.
    whatsapp.holdAcks();
    try {
      const arrived = whatsapp.stanzaArrives((m) => whatsapp.phoneOf(m.from) === phone);
      const res = await api<{ messageId: string; status: string }>(account, 'POST', '/api/v1/send', { recipient: contact, text: 'sent once, whatever happens', wait: 0 });
      expect(res.status).toBe(200);
      const first = await arrived;
      await gateway.kill('SIGKILL');
      const id = await waMessageId(res.body.messageId);
      expect(first.id).toBe(id);
      expect(first.message?.conversation ?? first.message?.extendedTextMessage?.text).toBe('sent once, whatever happens');
      expect((await reads.db.selectFrom('messages').select('status').where('id', '=', res.body.messageId).executeTakeFirstOrThrow()).status).toBe('pending');
    } finally {
      await whatsapp.releaseAcks();
    }
    await killAndRestart();
    await connected(account);
    const messageId = (await reads.db.selectFrom('messages').select('id').where('account_id', '=', account.id).executeTakeFirstOrThrow()).id;
    const id = await waMessageId(messageId);
    await expect.poll(async () => (await api<{ status: string }>(account, 'GET', `/api/v1/messages/${messageId}`)).body.status, { timeout: 20_000 }).toBe('sent');
    // On the wire twice, under one id; on the phone once.
    expect(whatsapp.deliveries.filter((m) => m.id === id).map((m) => Boolean(m.duplicate))).toEqual([false, true]);
    expect(whatsapp.chat(contact, phone).map((m) => [m.id, m.message?.conversation ?? m.message?.extendedTextMessage?.text])).toEqual([[id, 'sent once, whatever happens']]);
    await expect.poll(() => receiver.bodies.filter((w) => w.event === 'message.sent' && (w.message as { id: string }).id === messageId).length, { timeout: 15_000 }).toBe(1);
  });

  it('a message the recipient cannot open is refused by the server (ack error 479): the gateway does not record it sent, and tries again under the same id', async () => {
    const account = await createAccount('nack@example.com');
    const phone = '15550818181';
    const contact = '12125550181';
    await linkByQr(account, phone);
    await send(account, { recipient: contact, text: 'before the reinstall' });
    // The contact reinstalled WhatsApp: the Signal session the gateway holds opens nothing on its new device.
    whatsapp.reinstall(contact);
    const arrived = whatsapp.stanzaArrives((m) => whatsapp.phoneOf(m.from) === phone);
    const res = await api<{ messageId: string; status: string }>(account, 'POST', '/api/v1/send', { recipient: contact, text: 'after the reinstall', wait: 0 });
    expect(res.status).toBe(200);
    const refused = await arrived;
    const again = whatsapp.stanzaArrives((m) => m.id === refused.id);
    expect(refused.id).toBe(await waMessageId(res.body.messageId));
    expect(refused.error).toBeDefined();
    const job = () => reads.db.selectFrom('outbox').select(['attempts', 'last_error']).where('ref', '=', res.body.messageId).executeTakeFirst();
    await expect.poll(async () => (await job())?.last_error, { timeout: 10_000 }).toMatch(/refused the message \(error 479\)/);
    expect((await job())!.attempts).toBeGreaterThanOrEqual(1);
    expect((await api<{ status: string }>(account, 'GET', `/api/v1/messages/${res.body.messageId}`)).body.status).toBe('pending');
    // The next attempt of the schedule (5 s on): the same id, refused again while the session stays broken.
    expect((await again).error).toBeDefined();
    expect((await api<{ status: string }>(account, 'GET', `/api/v1/messages/${res.body.messageId}`)).body.status).toBe('pending');
    expect(whatsapp.chat(contact, phone).map((m) => m.message?.conversation ?? m.message?.extendedTextMessage?.text)).toEqual(['before the reinstall']);
  });

  it('Signal sessions survive a restart: afterwards the contact writes on the session from before (a `msg` on the wire, no new pre-key message) and the gateway opens it', async () => {
    const account = await createAccount('sessions@example.com');
    expect((await api(account, 'PATCH', '/api/v1/settings', { webhookUrl: hookUrl() })).status).toBe(200);
    const phone = '15550828282';
    const contact = '12125550182';
    await linkByQr(account, phone);
    // The gateway starts the session (a pre-key message the contact's phone opens)…
    await send(account, { recipient: contact, text: 'hello, this starts our session' });
    await gateway.kill('SIGTERM');
    gateway = await startServerProcess(env);
    await connected(account);
    // …and after the restart the contact answers on it: only stored session state opens that.
    const { id } = await admin('inbound', { from: contact, phone, text: 'answering on the same session' });
    expect(whatsapp.inboundStanzas.filter((m) => m.id === id).flatMap((m) => m.types)).toEqual(['msg']);
    await expect
      .poll(() => receiver.bodies.find((w) => w.event === 'message.received' && (w.message as { id: string }).id === id), { timeout: 15_000 })
      .toMatchObject({ message: { id, from: contact, text: 'answering on the same session' } });
  });
});
