import pino from 'pino';
import { vi } from 'vitest';
import { createAccount } from '../../src/core/accounts.js';
import type { EventRecorder, GatewayEvent } from '../../src/core/events.js';
import { learnLids } from '../../src/core/lid-mappings.js';
import { recordReceipt } from '../../src/core/receipts.js';
import { recordSessionChange } from '../../src/core/sessions.js';
import type { Dialect } from '../../src/store/dialect.js';
import { afterCommit } from '../../src/store/after-commit.js';
import { Store } from '../../src/store/store.js';
import { AuthStateStore } from '../../src/whatsapp/baileys/auth-state-store.js';
import { BaileysDriver, type BaileysSettings } from '../../src/whatsapp/baileys/baileys-driver.js';
import type { DriverEvents, IncomingChange, IncomingMessage } from '../../src/whatsapp/driver.js';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { fakeSocketFactory, linkedCreds } from './fake-socket.js';

export const SECRET = 'baileys-driver-test-secret-0123456789';

/**
 * A Baileys driver on a database of its own, wired to the gateway's real session and receipt
 * recording, with fake sockets. Events are collected instead of delivered.
 */
export async function driverHarness(dialect: Dialect, settings: Partial<BaileysSettings> = {}) {
  const database: TestDatabase = await createTestDatabase(dialect);
  const store = Store.open(database.url);
  await store.migrate();
  const recorded: Array<{ accountId: string; event: GatewayEvent }> = [];
  const recorder: EventRecorder = {
    record: async (tx, accountId, event) => {
      afterCommit(tx, () => recorded.push({ accountId, event }));
    },
  };
  const incoming: Array<{ accountId: string; message: IncomingMessage }> = [];
  const changes: Array<{ accountId: string; change: IncomingChange }> = [];
  const events: DriverEvents = {
    sessionChanged: (accountId, view) => recordSessionChange(store, recorder, accountId, view, Date.now()),
    incoming: async (accountId, message) => {
      incoming.push({ accountId, message });
      return message.waMessageId;
    },
    incomingChange: async (accountId, change) => {
      changes.push({ accountId, change });
    },
    receipt: (accountId, waMessageId, kind, at) => recordReceipt(store, recorder, accountId, waMessageId, kind, at, Date.now()),
    lidsLearned: (accountId, pairs) => store.write((tx) => learnLids(tx, accountId, pairs, Date.now())),
  };
  const sockets = fakeSocketFactory();
  const auth = new AuthStateStore(store, SECRET);
  const drivers: BaileysDriver[] = [];
  const makeDriver = () => {
    const driver = new BaileysDriver({
      store,
      events,
      log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
      secret: SECRET,
      settings: { pacing: { minMs: 0, maxMs: 0 }, ...settings },
      socketFactory: sockets.factory,
      random: () => 0.5,
    });
    drivers.push(driver);
    return driver;
  };
  const newAccount = async () => (await createAccount(store, { email: `u-${Math.random().toString(36).slice(2)}@example.com`, plan: 'unlimited', expiresAt: null }, Date.now())).id;
  return {
    store,
    auth,
    sockets,
    recorded,
    incoming,
    changes,
    makeDriver,
    newAccount,
    /** An account whose device is already linked (creds in the store). */
    async linkedAccount(phone = '15550000001') {
      const accountId = await newAccount();
      await auth.saveCreds(accountId, linkedCreds(phone));
      return accountId;
    },
    /** A server restart: `driver` stops, a new one starts, and its new socket for `accountId` opens. */
    async restart(driver: BaileysDriver, accountId: string): Promise<BaileysDriver> {
      await driver.stop();
      const socketsBefore = sockets.sockets.length;
      const again = makeDriver();
      await again.start();
      await until(() => sockets.sockets.length === socketsBefore + 1);
      sockets.last.open();
      await until(() => again.isConnected(accountId));
      return again;
    },
    disconnectEvents: (accountId: string) => recorded.filter((r) => r.accountId === accountId && r.event.event === 'session.disconnected').map((r) => r.event),
    async close() {
      for (const d of drivers) await d.stop();
      await store.close();
      await database.drop();
    },
  };
}

/** Waits (on real timers, even while the test fakes them) until `check` holds. */
export async function until(check: () => boolean | Promise<boolean>, what = 'condition'): Promise<void> {
  await vi.waitFor(
    async () => {
      if (!(await check())) throw new Error(`timed out waiting for ${what}`);
    },
    { timeout: 10_000, interval: 2 },
  );
}
