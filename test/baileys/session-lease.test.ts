import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAccount } from '../../src/core/accounts.js';
import { Store } from '../../src/store/store.js';
import { holdsLease, SqlLeaseBackend } from '../../src/core/scale-out/sql-lease-backend.js';
import { SessionOwnership } from '../../src/core/scale-out/session-ownership.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../helpers/databases.js';
import { driverHarness, until } from './driver-harness.js';

for (const dialect of testDialects()) {
  describe(`session leases (${dialect})`, () => {
    let database: TestDatabase;
    let store: Store;
    let accountId: string;
    let now = 1_000_000;

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

    it('one holder at a time; renewals keep it; an expired lease can be taken, under a higher fencing token; release frees it', async () => {
      const leases = new SqlLeaseBackend(store);
      const ttl = 30_000;
      expect(await leases.acquire('process-a', [accountId], now, ttl)).toEqual(new Map([[accountId, 1]]));
      expect(await leases.acquire('process-b', [accountId], now, ttl)).toEqual(new Map());
      now += 20_000;
      expect(await leases.renew('process-a', [accountId], now, ttl)).toEqual(new Map([[accountId, 1]]));
      // a's own live lease taken again: a renewal, same token
      expect(await leases.acquire('process-a', [accountId], now, ttl)).toEqual(new Map([[accountId, 1]]));
      now += 20_000; // 20 s after the renewal: still a's
      expect(await leases.acquire('process-b', [accountId], now, ttl)).toEqual(new Map());
      now += 11_000; // a stopped renewing: expired
      expect(await leases.acquire('process-b', [accountId], now, ttl)).toEqual(new Map([[accountId, 2]]));
      expect(await leases.renew('process-a', [accountId], now, ttl)).toEqual(new Map()); // a learns it lost it
      await store.write(async (tx) => {
        expect(await holdsLease(tx, store.dialect, accountId, 'process-a', 1)).toBe(false);
        expect(await holdsLease(tx, store.dialect, accountId, 'process-b', 2)).toBe(true);
      });
      await leases.release('process-a', [accountId]); // not a's any more: no effect
      expect((await leases.leases()).map((l) => [l.owner, l.token])).toEqual([['process-b', 2]]);
      await leases.release('process-b', [accountId]);
      // Released leases keep their token, so the next holder's is higher still.
      expect(await leases.acquire('process-a', [accountId], now, ttl)).toEqual(new Map([[accountId, 3]]));
    });

    it('a process that stops hands its sessions over at once: the others take them on its signal, not at their next round', async () => {
      // Rounds a minute apart: only the signal can explain a takeover within the test's few seconds.
      const settings = { leaseMs: 240_000, renewMs: 60_000, marginMs: 60_000, maxReleasesPerTick: 10 };
      const handlers = { sessions: async () => [accountId] };
      const first = new SessionOwnership(new SqlLeaseBackend(store), settings, Date.now, undefined, 'first');
      const second = new SessionOwnership(new SqlLeaseBackend(store), settings, Date.now, undefined, 'second');
      const gained: string[] = [];
      try {
        await first.start(handlers);
        await second.start({ ...handlers, gained: (id) => void gained.push(id) });
        expect(first.holds(accountId)).toBe(true);
        expect(second.holds(accountId)).toBe(false);
        const stoppedAt = Date.now();
        await first.stop();
        await expect.poll(() => second.holds(accountId), { timeout: 5_000, interval: 20 }).toBe(true);
        expect(Date.now() - stoppedAt).toBeLessThan(5_000);
        expect(gained).toEqual([accountId]);
        expect((await second.allLeases()).map((l) => [l.owner, l.token])).toEqual([['second', 2]]);
      } finally {
        await first.stop();
        await second.stop();
      }
    });

    it('processes are live while their heartbeat is fresh, and gone once they leave', async () => {
      const leases = new SqlLeaseBackend(store);
      await leases.heartbeat({ id: 'p1', host: 'h', pid: 1, startedAt: now }, now);
      await leases.heartbeat({ id: 'p2', host: 'h', pid: 2, startedAt: now }, now - 10_000);
      expect((await leases.liveProcesses(now - 5_000)).sort()).toEqual(['p1']);
      expect((await leases.liveProcesses(now - 20_000)).sort()).toEqual(['p1', 'p2']);
      await leases.leave('p1');
      expect(await leases.liveProcesses(now - 5_000)).toEqual([]);
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
      // Lease rounds of both (each reads the leases once a round): the second left the held session alone.
      const rounds = vi.spyOn(SqlLeaseBackend.prototype, 'leases');
      try {
        await until(() => rounds.mock.settledResults.filter((r) => r.type === 'fulfilled').length >= 4, 'lease rounds');
      } finally {
        rounds.mockRestore();
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
