import { describe, expect, it } from 'vitest';
import { createAccount } from '../../src/core/accounts.js';
import { SessionOwnership } from '../../src/core/scale-out/session-ownership.js';
import { SqlLeaseBackend } from '../../src/core/scale-out/sql-lease-backend.js';
import type { Store } from '../../src/store/store.js';
import type { OutgoingMessage, SendOutcome } from '../../src/whatsapp/driver.js';
import { SandboxDriver } from '../../src/whatsapp/sandbox/sandbox-driver.js';
import { testDialects, useTestStore } from '../helpers/databases.js';
import { acceptText, NO_DRIVER_EVENTS, testDispatcher } from '../helpers/dispatcher-setup.js';

const SETTINGS = { leaseMs: 20_000, renewMs: 5_000, marginMs: 5_000, maxReleasesPerTick: 10 };

for (const dialect of testDialects()) {
  describe(`the send fence (${dialect})`, () => {
    let store: Store;
    const opened = useTestStore(dialect, (s) => (store = s));

    const dispatcherFor = (driver: SandboxDriver, ownership: SessionOwnership, clock: () => number) => testDispatcher(store, driver, { clock, fence: { ownership, takeOnDemand: true } });
    const accept = (accountId: string, text: string) => acceptText(store, opened.database.dataDir, accountId, text);
    const status = async (id: string) => (await store.db.selectFrom('messages').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status;
    const network = async (id: string) => store.db.selectFrom('sandbox_sends').select(['sent_by', 'lease_token']).where('message_id', '=', id).orderBy('seq').execute();

    it('a holder past its margin sends nothing; an outcome is recorded only under the token that sent it, and the new holder sends under a higher one', async () => {
      const account = await createAccount(store, { email: `fence-${dialect}@example.com`, plan: 'unlimited' }, Date.now());
      // Process A's clock can jump (a pause); B's runs normally.
      let skew = 0;
      const clockA = () => Date.now() + skew;
      const a = new SessionOwnership(new SqlLeaseBackend(store), SETTINGS, clockA, undefined, 'process-a');
      const b = new SessionOwnership(new SqlLeaseBackend(store), SETTINGS, Date.now, undefined, 'process-b');
      const tokenA = await a.takeNow(account.id);
      expect(tokenA).not.toBeNull();

      const sandboxA = new SandboxDriver(store, NO_DRIVER_EVENTS, clockA, {}, a);

      // 1. A sends, and while its outcome is on the way the lease moves to B (A's process paused
      // there until its lease ran out): A's outcome is refused, the message stays pending for B.
      const raced = await accept(account.id, 'raced');
      const stealing = Object.assign(Object.create(sandboxA) as SandboxDriver, {
        async send(message: OutgoingMessage): Promise<SendOutcome> {
          const outcome = await sandboxA.send(message);
          await store.write((tx) => tx.updateTable('wa_session_leases').set({ expires_at: 0 }).where('account_id', '=', account.id).execute());
          expect(await b.takeNow(account.id)).toBe(tokenA! + 1);
          return outcome;
        },
      });
      const racing = dispatcherFor(stealing, a, clockA);
      racing.start();
      try {
        await expect.poll(async () => (await network(raced)).length, { timeout: 10_000 }).toBe(1);
        await expect.poll(async () => (await store.db.selectFrom('outbox').select('locked_by').where('ref', '=', raced).executeTakeFirstOrThrow()).locked_by, { timeout: 10_000 }).toBeNull();
        expect(await status(raced), 'A’s outcome refused: the message is still pending for B').toBe('pending');
      } finally {
        await racing.stop();
      }

      // 2. A wakes with its clock past the margin of the lease it believed it had: it sends nothing more.
      skew = SETTINGS.leaseMs - SETTINGS.marginMs + 1;
      expect(a.sendToken(account.id)).toBeNull();
      const waiting = await accept(account.id, 'after the pause');
      // A claims only in rounds, and each round first asks which accounts another process holds:
      // two rounds that left this account to B mean A has looked and taken nothing.
      let leftToB = 0;
      const watchedA = Object.assign(Object.create(sandboxA) as SandboxDriver, {
        async accountsServedElsewhere(): Promise<string[]> {
          const elsewhere = await sandboxA.accountsServedElsewhere();
          if (elsewhere.includes(account.id)) leftToB += 1;
          return elsewhere;
        },
      });
      const dispatcherA = dispatcherFor(watchedA, a, clockA);
      dispatcherA.start();
      try {
        await expect.poll(() => leftToB, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
        expect(await network(waiting)).toEqual([]);
        expect(await network(raced)).toHaveLength(1);
      } finally {
        await dispatcherA.stop();
      }

      // 3. B, the holder now, sends both under its token; A sends nothing more.
      const dispatcherB = dispatcherFor(new SandboxDriver(store, NO_DRIVER_EVENTS, Date.now, {}, b), b, Date.now);
      dispatcherB.start();
      try {
        await expect.poll(async () => [await status(waiting), await status(raced)], { timeout: 10_000 }).toEqual(['sent', 'sent']);
      } finally {
        await dispatcherB.stop();
      }
      expect(await network(waiting)).toEqual([{ sent_by: 'process-b', lease_token: tokenA! + 1 }]);
      expect(await network(raced)).toEqual([
        { sent_by: 'process-a', lease_token: tokenA },
        { sent_by: 'process-b', lease_token: tokenA! + 1 },
      ]);
    });
  });
}
