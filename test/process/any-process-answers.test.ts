import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../baileys/ensure-built.js';
import { createStoredAccounts, createTestDatabase, testDialects, type TestDatabase } from '../helpers/databases.js';
import { ROOT, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { baileysGatewayEnv } from '../helpers/e2e-gateway.js';
import { WhatsAppTestServer } from '../whatsapp-server/server.js';

/**
 * Issue 18, point 1: with several `messageapi serve` processes on one PostgreSQL, any process
 * answers any request. The real Baileys driver against our WhatsApp Web test server: the first
 * process holds the session (its lease), the second answers link, the QR's refreshes on its live
 * stream, the pairing code, groups, the send's `wait` and logout — forwarded to the holder through
 * the database, no sticky routing. (SQLite is one process; inbound media served by another process
 * is test/process/media-two-processes.test.ts.)
 */

const SECRET = 'any-process-answers-secret-0123456789';
const PEER = '12125550177';
const GROUP = { id: '120363000000000077@g.us', subject: 'Night shift', members: ['15550707070', PEER] };

interface SessionAnswer {
  success: boolean;
  state: string;
  phone: string | null;
  qr: string | null;
  pairingCode: string | null;
}

interface Account {
  id: string;
  apiKey: string;
}

/** A live `session/events` stream: every `session` event it has sent so far. */
function openSessionStream(url: string, apiKey: string) {
  const controller = new AbortController();
  const events: SessionAnswer[] = [];
  const done = (async () => {
    const res = await fetch(`${url}/api/v1/session/events`, { headers: { 'X-API-Key': apiKey }, signal: controller.signal });
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = /^event: session\ndata: (.*)$/m.exec(block)?.[1];
        if (data) events.push(JSON.parse(data) as SessionAnswer);
      }
    }
  })().catch(() => undefined);
  return {
    events,
    close: async () => {
      controller.abort();
      await done;
    },
  };
}

for (const dialect of testDialects().filter((d) => d === 'postgres')) {
  describe(`any process answers any request (${dialect}, two processes)`, () => {
    const whatsapp = new WhatsAppTestServer();
    let database: TestDatabase;
    let env: Record<string, string>;
    let holder: ServerProcess;
    let other: ServerProcess;

    const createAccount = async (email: string): Promise<Account> => (await createStoredAccounts(database.url, [email]))[0]!;
    const api = async <T>(server: ServerProcess, account: Account, method: string, url: string, body?: unknown) => {
      const res = await fetch(`${server.url}${url}`, {
        method,
        headers: { 'X-API-Key': account.apiKey, ...(body ? { 'Content-Type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: res.status, body: (await res.json()) as T };
    };
    const forwarded = async (server: ServerProcess, call: string) => {
      const text = await (await fetch(`${server.url}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith(`messageapi_forwarded_calls_total{call="${call}",outcome="answered"}`));
      return line ? Number(line.split(' ').pop()) : 0;
    };

    beforeAll(async () => {
      ensureBuilt(ROOT);
      database = await createTestDatabase(dialect);
      await whatsapp.start();
      whatsapp.addGroup(GROUP);
      env = baileysGatewayEnv(database, whatsapp.webSocketUrl, SECRET, {
        // Each QR lives 2.5 s, so a refresh shows within seconds (WhatsApp Web: 60 s, then 20 s).
        WHATSAPP_QR_TIMEOUT_MS: '2500',
        // The test's pauses between calls (a loaded machine) must not meet the server closing an idle keep-alive connection as fetch reuses it.
        KEEP_ALIVE_TIMEOUT_MS: '60000',
      });
      [holder, other] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
    }, 120_000);

    afterAll(async () => {
      await Promise.all([holder?.kill('SIGTERM'), other?.kill('SIGTERM')]);
      await whatsapp.stop();
      await database?.drop();
    });

    it('links through the process that does not hold the session: its QR, the refreshed QR on its stream, groups, a send waited for, logout', async () => {
      const account = await createAccount('linked-elsewhere@example.com');
      // The first process starts linking, so it holds the session.
      const started = await api<SessionAnswer>(holder, account, 'POST', '/api/v1/session/link');
      expect(started.status, JSON.stringify(started.body)).toBe(200);
      expect(started.body.qr).toMatch(/^https:\/\/wa\.me\/settings\/linked_devices#/);

      // The second process answers link and session with the holder's QR, not a 409.
      const linking = await api<SessionAnswer>(other, account, 'POST', '/api/v1/session/link');
      expect(linking.status, JSON.stringify(linking.body)).toBe(200);
      expect(linking.body.state).toBe('linking');
      expect(linking.body.qr).toMatch(/^https:\/\/wa\.me\/settings\/linked_devices#/);
      expect((await api<SessionAnswer>(other, account, 'GET', '/api/v1/session')).body.qr).toMatch(/^https:\/\/wa\.me/);

      // Its live stream shows the QR and then WhatsApp's next one, refreshed in the holder.
      const stream = openSessionStream(other.url, account.apiKey);
      try {
        await expect.poll(() => new Set(stream.events.map((e) => e.qr).filter(Boolean)).size, { timeout: 30_000, interval: 50 }).toBeGreaterThanOrEqual(2);
        const latest = stream.events.at(-1)!;
        expect(latest.state).toBe('linking');
        await whatsapp.scanQr(latest.qr!, '15550707070');
        await expect.poll(() => stream.events.at(-1)?.state, { timeout: 30_000, interval: 50 }).toBe('connected');
        expect(stream.events.at(-1)!.phone).toBe('15550707070');
      } finally {
        await stream.close();
      }
      expect(await forwarded(other, 'link')).toBe(1);
      expect(await forwarded(other, 'session')).toBeGreaterThanOrEqual(2);

      // Groups, through the process without the socket.
      await expect
        .poll(async () => (await api<{ groups: Array<{ id: string }> }>(other, account, 'GET', '/api/v1/groups')).body.groups?.map((g) => g.id), { timeout: 30_000, interval: 200 })
        .toContain(GROUP.id);

      // A send accepted by the second process goes out through the holder's socket; its wait is answered where it was asked.
      const sent = await api<{ messageId: string; status: string }>(other, account, 'POST', '/api/v1/send', { recipient: PEER, text: 'accepted by one process, sent by the other', wait: 20_000 });
      expect(sent.status, JSON.stringify(sent.body)).toBe(200);
      expect(sent.body.status).toBe('sent');
      expect(whatsapp.chat(PEER, '15550707070').map((m) => m.message?.conversation ?? m.message?.extendedTextMessage?.text)).toContain('accepted by one process, sent by the other');

      // Logout through the second process unlinks the device at WhatsApp: the holder's socket logs out.
      const devices = whatsapp.loggedInDevices.filter((jid) => jid.startsWith('15550707070'));
      expect(devices).toHaveLength(1);
      const out = await api<{ success: boolean }>(other, account, 'POST', '/api/v1/session/logout');
      expect(out.status, JSON.stringify(out.body)).toBe(200);
      await expect.poll(() => whatsapp.wasRemoved(devices[0]!), { timeout: 15_000 }).toBe(true);
      expect((await api<SessionAnswer>(holder, account, 'GET', '/api/v1/session')).body.state).toBe('unlinked');
      expect(await forwarded(other, 'logout')).toBe(1);
    }, 120_000);

    it('gives the pairing code through the process that does not hold the session', async () => {
      const account = await createAccount('paired-elsewhere@example.com');
      expect((await api<SessionAnswer>(holder, account, 'POST', '/api/v1/session/link')).status).toBe(200);
      const pairing = await api<SessionAnswer>(other, account, 'POST', '/api/v1/session/pair', { phone: '+15550808080' });
      expect(pairing.status, JSON.stringify(pairing.body)).toBe(200);
      expect(pairing.body.pairingCode).toMatch(/^[A-Z0-9]{8}$/);
      await whatsapp.enterPairingCode('15550808080', pairing.body.pairingCode!);
      await expect.poll(async () => (await api<SessionAnswer>(other, account, 'GET', '/api/v1/session')).body.state, { timeout: 30_000, interval: 100 }).toBe('connected');
      expect((await api<SessionAnswer>(other, account, 'GET', '/api/v1/session')).body.phone).toBe('15550808080');
      expect(await forwarded(other, 'pair')).toBe(1);
    }, 90_000);
  });
}
