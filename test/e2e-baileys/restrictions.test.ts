import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/store.js';
import { AuthStateStore } from '../../src/whatsapp/baileys/auth-state-store.js';
import { ensureBuilt } from '../baileys/ensure-built.js';
import { linkedCreds } from '../baileys/fake-socket.js';
import { createStoredAccounts, createTestDatabase, testDialects, type TestDatabase } from '../helpers/databases.js';
import { ROOT, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { WhatsAppTestServer } from '../whatsapp-server/server.js';
import { keyApi } from '../helpers/key-api.js';
import { baileysGatewayEnv, webhookReceiver } from '../helpers/e2e-gateway.js';

/**
 * WhatsApp's limits through the real driver: `messageapi serve` with the unmodified Baileys socket
 * against our WhatsApp Web test server, which answers Baileys' reach-out timelock and new-chat cap
 * queries, pushes WhatsApp's `mex` notifications when they change, and refuses a restricted
 * number's message to a new chat with a 463 ack. Only loopback traffic.
 */

const SECRET = 'e2e-restrictions-test-secret-0123456789';
const SELF = '15550707070';
/** A contact the number already writes to. */
const PEER = '12125550170';
const HOUR = 3_600_000;
/** WhatsApp gives times in whole seconds. */
const wholeSecond = (ms: number) => Math.floor(ms / 1000) * 1000;

interface Restrictions {
  reachoutTimelock: { active: boolean; until: string | null };
  newChatCap: { used: number | null; total: number | null; cycleEndsAt: string | null };
}

for (const dialect of testDialects()) describe(`WhatsApp's limits through the real driver (${dialect})`, () => {
  const whatsapp = new WhatsAppTestServer();
  let database: TestDatabase;
  let gateway: ServerProcess;
  let receiver: Awaited<ReturnType<typeof webhookReceiver>>;
  let reads: Store;
  let account: { id: string; apiKey: string };
  const cycleEndsAt = wholeSecond(Date.now() + 5 * 24 * HOUR);
  const lockedAtConnect = wholeSecond(Date.now() + 2 * HOUR);
  let fresh = 0;
  /** A number this account has never chatted with. */
  const newNumber = () => `1313555${String(++fresh).padStart(4, '0')}`;

  const api = keyApi(() => gateway.url, () => account.apiKey);
  const restrictions = async () => (await api<{ restrictions: Restrictions }>('GET', '/api/v1/status')).body.restrictions;
  const timelock = async () => (await restrictions()).reachoutTimelock;
  /** The test server's controls over HTTP, as a test outside this process would use them. */
  const limits = async (change: { timelockUntil?: number | null; cap?: { used: number; total: number; cycleEndsAt: number }; notify?: boolean }) => {
    const res = await fetch(`${whatsapp.adminUrl}/limits`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ phone: SELF, ...change }) });
    expect(res.status).toBe(200);
  };
  const connected = () => expect.poll(async () => (await api<{ state: string }>('GET', '/api/v1/session')).body.state, { timeout: 30_000, interval: 100 }).toBe('connected');
  const send = (recipient: string, text: string) => api<{ success: boolean; messageId?: string; status?: string; code?: string; error?: string }>('POST', '/api/v1/send', { recipient, text });
  const webhooksOf = (event: string) => receiver.bodies.filter((w) => w.event === event);
  const stanzasTo = (phone: string) => whatsapp.deliveries.filter((m) => m.to === `${phone}@s.whatsapp.net`);
  /** Sets the timelock at the test server, notifying the device, and waits for the gateway to show it. */
  const setTimelock = async (until: number | null) => {
    await limits({ timelockUntil: until });
    await expect.poll(timelock, { timeout: 15_000, interval: 100 }).toEqual(until === null ? { active: false, until: null } : { active: true, until: new Date(until).toISOString() });
  };

  beforeAll(async () => {
    ensureBuilt(ROOT);
    database = await createTestDatabase(dialect);
    await whatsapp.start();
    receiver = await webhookReceiver();
    const env = baileysGatewayEnv(database, whatsapp.webSocketUrl, SECRET, { ALLOW_PRIVATE_URLS: 'true' });
    [account] = await createStoredAccounts(database.url, ['limits@example.com']);
    // The number was linked before (creds in our encrypted store, registered with WhatsApp), and
    // WhatsApp holds a timelock and a cap on it when the gateway starts.
    const creds = linkedCreds(SELF);
    creds.accountSyncCounter = 1;
    whatsapp.registerDevice(creds.me!.id, { noiseKey: Buffer.from(creds.noiseKey.public), identityKey: Buffer.from(creds.signedIdentityKey.public) });
    whatsapp.limits.change(SELF, { timelockUntil: lockedAtConnect, cap: { used: 3, total: 50, cycleEndsAt } });
    reads = Store.open(database.url);
    await new AuthStateStore(reads, SECRET).saveCreds(account.id, creds);
    gateway = await startServerProcess(env);
    const hook = await api('PATCH', '/api/v1/settings', {
      webhookUrl: receiver.url,
      webhookEvents: ['message.sent', 'message.failed', 'account.restricted', 'account.restriction_lifted'],
    });
    expect(hook.status).toBe(200);
  }, 120_000);

  afterAll(async () => {
    await gateway?.kill('SIGTERM');
    await whatsapp.stop();
    await receiver?.close();
    await reads?.close();
    await database?.drop();
  });

  it('at connect the status shows the timelock and the cap WhatsApp reports, and a send to a new chat is refused 403 before WhatsApp', async () => {
    await connected();
    await expect.poll(restrictions, { timeout: 15_000, interval: 100 }).toEqual({
      reachoutTimelock: { active: true, until: new Date(lockedAtConnect).toISOString() },
      newChatCap: { used: 3, total: 50, cycleEndsAt: new Date(cycleEndsAt).toISOString() },
    });
    const stranger = newNumber();
    const refused = await send(stranger, 'hello, we have not met');
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ success: false, code: 'reachout_restricted' });
    expect(refused.body.error).toMatch(/never chatted with.*lifts at/);
    expect(refused.body.messageId).toBeUndefined();
    expect(stanzasTo(stranger)).toEqual([]);
  });

  it('notifications mid-session: a timelock updates the status and raises account.restricted, the cap updates, lifting raises account.restriction_lifted', async () => {
    await connected();
    await setTimelock(null);
    const until = wholeSecond(Date.now() + 3 * HOUR);
    await setTimelock(until);
    await expect.poll(() => webhooksOf('account.restricted').find((w) => (w.restriction as { until: string }).until === new Date(until).toISOString()), { timeout: 15_000 }).toMatchObject({
      restriction: { type: 'reachout_timelock', until: new Date(until).toISOString() },
    });
    await limits({ cap: { used: 40, total: 50, cycleEndsAt } });
    await expect.poll(async () => (await restrictions()).newChatCap, { timeout: 15_000, interval: 100 }).toEqual({ used: 40, total: 50, cycleEndsAt: new Date(cycleEndsAt).toISOString() });
    const liftedBefore = webhooksOf('account.restriction_lifted').length;
    await setTimelock(null);
    await expect.poll(() => webhooksOf('account.restriction_lifted').length, { timeout: 15_000 }).toBe(liftedBefore + 1);
  });

  it('a send WhatsApp refuses with 463 (the gateway did not know yet) ends failed reachout_restricted, is never retried, and the gateway learns the timelock; existing chats still flow, new ones are refused before WhatsApp', async () => {
    await connected();
    await setTimelock(null);
    const existing = await send(PEER, 'an existing chat from now on');
    expect(existing.body.status).toBe('sent');
    // WhatsApp restricts the number without telling the device.
    const until = wholeSecond(Date.now() + 4 * HOUR);
    await limits({ timelockUntil: until, notify: false });
    expect((await timelock()).active).toBe(false);

    const stranger = newNumber();
    const refused = await send(stranger, 'hello, first message');
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ success: false, code: 'send_failed', messageId: expect.any(String) });
    const messageId = refused.body.messageId!;
    const logged = await api<{ status: string; errorCode: string | null; error: string | null }>('GET', `/api/v1/messages/${messageId}`);
    expect(logged.body).toMatchObject({ status: 'failed', errorCode: 'reachout_restricted' });
    expect(logged.body.error).toMatch(/463.*restricted this number from starting new chats.*do not retry/);
    // Refused once by WhatsApp, and nothing left to send it again.
    expect(stanzasTo(stranger).map((m) => m.nack)).toEqual(['463']);
    expect(await reads.db.selectFrom('outbox').select('seq').where('ref', '=', messageId).execute()).toEqual([]);
    await expect.poll(() => webhooksOf('message.failed').find((w) => (w.message as { id: string }).id === messageId), { timeout: 15_000 }).toBeDefined();

    // The 463 made the gateway ask WhatsApp: the timelock shows, and account.restricted is raised.
    await expect.poll(timelock, { timeout: 15_000, interval: 100 }).toEqual({ active: true, until: new Date(until).toISOString() });
    await expect.poll(() => webhooksOf('account.restricted').some((w) => (w.restriction as { until: string }).until === new Date(until).toISOString()), { timeout: 15_000 }).toBe(true);

    const again = await send(PEER, 'existing chats still flow');
    expect(again.status).toBe(200);
    expect(again.body.status).toBe('sent');
    const another = newNumber();
    expect((await send(another, 'hello?')).status).toBe(403);
    expect(stanzasTo(another)).toEqual([]);
    expect(stanzasTo(stranger)).toHaveLength(1);
  });
});
