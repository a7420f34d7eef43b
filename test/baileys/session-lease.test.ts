import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAccount } from '../../src/core/accounts.js';
import { Store } from '../../src/store/store.js';
import { SessionLeases } from '../../src/whatsapp/baileys/session-lease.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../helpers/databases.js';
import { driverHarness, until } from './driver-harness.js';

for (const dialect of testDialects()) {
  describe(`session leases (${dialect})`, () => {
    let database: TestDatabase;
    let store: Store;
    let accountId: string;
    let now = 1_000_000;
    const clock = () => now;

    beforeEach(async () => {
      database = await createTestDatabase(dialect);
      store = Store.open(database.url);
      await store.migrate();
      accountId = (await createAccount(store, { email: `l-${Math.random()}@example.com`, plan: 'trial', expiresAt: null }, Date.now())).id;
    });

    afterEach(async () => {
      await store.close();
      await database.drop();
    });

    it('one holder at a time; renewals keep it; an expired lease can be taken; release frees it', async () => {
      const a = new SessionLeases(store, 'process-a', 30_000, clock);
      const b = new SessionLeases(store, 'process-b', 30_000, clock);
      expect(await a.acquire(accountId)).toBe(true);
      expect(await b.acquire(accountId)).toBe(false);
      expect(await b.heldElsewhere(accountId)).toBe(true);
      expect(await a.heldElsewhere(accountId)).toBe(false);
      now += 20_000;
      expect(await a.renew([accountId])).toEqual([]);
      now += 20_000; // 40 s after the first take, 20 s after the renewal: still a's
      expect(await b.acquire(accountId)).toBe(false);
      now += 11_000; // a stopped renewing: expired
      expect(await b.acquire(accountId)).toBe(true);
      expect(await a.renew([accountId])).toEqual([accountId]); // a learns it lost it
      await a.release(accountId); // not a's any more: no effect
      expect(await a.heldElsewhere(accountId)).toBe(true);
      await b.release(accountId);
      expect(await a.acquire(accountId)).toBe(true);
    });
  });
}

describe('two gateway processes on one PostgreSQL', () => {
  it.runIf(testDialects().includes('postgres'))('never open the same session twice, and the survivor takes over', async () => {
    const h = await driverHarness('postgres', { leaseMs: 3_000 });
    try {
      const id = await h.linkedAccount();
      const first = h.makeDriver();
      const second = h.makeDriver();
      await first.start();
      await until(() => h.sockets.sockets.length === 1);
      await second.start();
      h.sockets.last.open();
      await until(() => first.isConnected(id));
      await until(async () => (await first.session(id)).state === 'connected' && (await second.session(id)).state === 'connected', 'state recorded');
      // the second process sees the session as connected (held by the first) but opens nothing
      expect(await second.isConnected(id)).toBe(true);
      expect((await second.send({ id: 'm', accountId: id, recipient: '12125551234', kind: 'text', text: 'x', filename: null, waMessageId: 'W', createdAt: Date.now() })).status).toBe('retry');
      // A lease round of the second: it asked for the lease, was refused, and opened nothing.
      const acquire = vi.spyOn(SessionLeases.prototype, 'acquire');
      try {
        await until(() => acquire.mock.settledResults.some((r) => r.type === 'fulfilled' && r.value === false), 'a refused lease round');
      } finally {
        acquire.mockRestore();
      }
      expect(h.sockets.sockets.length).toBe(1);
      // the first stops (releases its lease): the second picks the session up at its next round
      await first.stop();
      await until(() => h.sockets.sockets.length === 2, 'takeover');
      expect(h.sockets.live()).toHaveLength(1);
      h.sockets.last.open();
      await until(() => second.isConnected(id));
    } finally {
      await h.close();
    }
  }, 20_000);
});
