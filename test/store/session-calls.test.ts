import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/core/errors.js';
import { LocalSessionCalls } from '../../src/core/session-calls.js';
import type { SessionView, WhatsAppDriver } from '../../src/core/driver-port.js';
import { Store } from '../../src/store/store.js';
import { createSessionCalls } from '../../src/whatsapp/session-calls/create-session-calls.js';
import { createTestDatabase, openTestStore, testDialects, type TestDatabase } from '../helpers/databases.js';

const log = pino({ level: 'silent' });
const linking = (qr: string): SessionView => ({ state: 'linking', phone: null, reason: null, qr, pairingCode: null, detail: null });

/**
 * A driver standing for one process's sessions: it holds `own` (runs their calls itself) and names
 * `elsewhere` as another process's. The WhatsApp network is the one thing simulated.
 */
function driverOf(processId: string, own: Set<string>, elsewhere: Record<string, string>): WhatsAppDriver & { ran: string[] } {
  const ran: string[] = [];
  const driver = {
    name: 'baileys' as const,
    ran,
    own,
    elsewhere,
    async sessionHolder(accountId: string) {
      return own.has(accountId) ? null : (elsewhere[accountId] ?? null);
    },
    async session(accountId: string) {
      ran.push(`session ${accountId}`);
      return linking(`qr-of-${processId}`);
    },
    async link(accountId: string) {
      ran.push(`link ${accountId}`);
      return linking(`qr-of-${processId}`);
    },
    async pair(accountId: string, phone: string) {
      ran.push(`pair ${accountId} ${phone}`);
      throw new AppError('invalid_parameter', `Invalid parameter: phone ${phone} is not the number being linked.`);
    },
    async logout(accountId: string) {
      ran.push(`logout ${accountId}`);
    },
  };
  return driver as unknown as WhatsAppDriver & { ran: string[] };
}

for (const dialect of testDialects()) {
  describe(`store signals (${dialect})`, () => {
    let store: Store;
    let close: () => Promise<void>;
    beforeAll(async () => ({ store, close } = await openTestStore(dialect)));
    afterAll(() => close());

    it('reach listeners once the write commits, and never from a write rolled back', async () => {
      const heard: string[] = [];
      const stop = await store.signals.listen('mapi_test', (payload) => heard.push(payload));
      await store
        .write(async (tx) => {
          await store.signals.notify(tx, 'mapi_test', 'rolled back');
          throw new Error('no');
        })
        .catch(() => undefined);
      await store.write((tx) => store.signals.notify(tx, 'mapi_test', 'committed'));
      await expect.poll(() => heard, { timeout: 10_000 }).toEqual(['committed']);
      stop();
    });
  });
}

describe('session calls in one process (sqlite)', () => {
  it('go straight to the local driver', async () => {
    const { store, close } = await openTestStore('sqlite');
    try {
      const driver = driverOf('only', new Set(), { acc: 'someone-else' });
      const calls = createSessionCalls({ store, driver, processId: 'only', log, linkTimeoutMs: 1_000 });
      expect(calls.calls).toBeInstanceOf(LocalSessionCalls);
      expect((await calls.calls.link('acc')).qr).toBe('qr-of-only');
    } finally {
      await close();
    }
  });
});

for (const dialect of testDialects().filter((d) => d === 'postgres')) {
  describe(`session calls forwarded between two processes (${dialect})`, () => {
    let database: TestDatabase;
    let storeA: Store;
    let storeB: Store;
    const driverA = driverOf('a', new Set(['acc']), {});
    const driverB = driverOf('b', new Set(), { acc: 'proc-a', lost: 'proc-gone' });
    const counted: string[] = [];
    let a: ReturnType<typeof createSessionCalls>;
    let b: ReturnType<typeof createSessionCalls>;

    beforeAll(async () => {
      database = await createTestDatabase(dialect);
      storeA = Store.open(database.url);
      await storeA.migrate();
      storeB = Store.open(database.url);
      a = createSessionCalls({ store: storeA, driver: driverA, processId: 'proc-a', log, linkTimeoutMs: 1_000 });
      b = createSessionCalls({ store: storeB, driver: driverB, processId: 'proc-b', log, linkTimeoutMs: 0, timeoutMs: 5_000, forwarded: (call, outcome) => counted.push(`${call} ${outcome}`) });
      await a.start();
      await b.start();
    });
    afterAll(async () => {
      await a.stop();
      await b.stop();
      await storeA.close();
      await storeB.close();
      await database.drop();
    });

    it('runs a call in the process that holds the session and answers it in the one that was asked', async () => {
      const view = await b.calls.link('acc');
      expect(view.qr).toBe('qr-of-a');
      expect(driverA.ran).toContain('link acc');
      expect(driverB.ran).not.toContain('link acc');
      await b.calls.logout('acc');
      expect(driverA.ran).toContain('logout acc');
      expect(counted).toEqual(['link answered', 'logout answered']);
      // Nothing is left behind: the caller deletes its row once answered.
      expect(await storeA.db.selectFrom('session_calls').selectAll().execute()).toEqual([]);
    });

    it("throws the holder's error, with its code, where the call was made", async () => {
      const error = await b.calls.pair('acc', '15550001111').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({ code: 'invalid_parameter', message: 'Invalid parameter: phone 15550001111 is not the number being linked.' });
      expect(counted.at(-1)).toBe('pair error');
    });

    it('answers 503 session_holder_unavailable when the holder does not answer in time', async () => {
      const quick = createSessionCalls({ store: storeB, driver: driverB, processId: 'proc-b2', log, linkTimeoutMs: 0, timeoutMs: 300 });
      await quick.start();
      try {
        const error = await quick.calls.logout('lost').catch((e: unknown) => e);
        expect(error).toMatchObject({ code: 'session_holder_unavailable' });
        expect(await storeA.db.selectFrom('session_calls').selectAll().where('account_id', '=', 'lost').execute()).toEqual([]);
      } finally {
        await quick.stop();
      }
    });

    it('sends a call its holder never took to the process that holds the session now', async () => {
      const moving = createSessionCalls({ store: storeB, driver: driverB, processId: 'proc-b3', log, linkTimeoutMs: 0, timeoutMs: 30_000, recheckMs: 200 });
      await moving.start();
      try {
        (driverB as unknown as { elsewhere: Record<string, string> }).elsewhere.moving = 'proc-stopped';
        const answer = moving.calls.link('moving');
        // The first holder never answers; the session moves to proc-a, which runs the call.
        await expect.poll(async () => (await storeA.db.selectFrom('session_calls').select('holder').where('account_id', '=', 'moving').execute()).map((r) => r.holder), { timeout: 10_000 }).toEqual(['proc-stopped']);
        (driverA as unknown as { own: Set<string> }).own.add('moving');
        (driverB as unknown as { elsewhere: Record<string, string> }).elsewhere.moving = 'proc-a';
        expect((await answer).qr).toBe('qr-of-a');
        expect(driverA.ran).toContain('link moving');
      } finally {
        await moving.stop();
      }
    });

    it('runs here a session that no other process holds', async () => {
      expect((await b.calls.link('nobody-holds-it')).qr).toBe('qr-of-b');
      expect(driverB.ran).toContain('link nobody-holds-it');
    });
  });
}
