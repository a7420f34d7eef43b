import { describe, expect, it } from 'vitest';
import { createAccount } from '../../src/core/accounts.js';
import type { Store } from '../../src/store/store.js';
import type { WhatsAppDriver } from '../../src/whatsapp/driver.js';
import { SandboxDriver } from '../../src/whatsapp/sandbox/sandbox-driver.js';
import { testDialects, useTestStore } from '../helpers/databases.js';
import { acceptText, NO_DRIVER_EVENTS, testDispatcher } from '../helpers/dispatcher-setup.js';

for (const dialect of testDialects()) {
  describe(`message dispatcher with several processes (${dialect})`, () => {
    let store: Store;
    const opened = useTestStore(dialect, (s) => (store = s));

    const dispatcherFor = (driver: WhatsAppDriver, idlePollMs = 20) => testDispatcher(store, driver, { idlePollMs });
    const acceptSome = async (accountId: string, count: number) => {
      const ids: string[] = [];
      for (let i = 0; i < count; i++) ids.push(await acceptText(store, opened.database.dataDir, accountId, `m${i}`));
      return ids;
    };

    it("leaves the messages of a session another process holds to that process, and sends them once it may", async () => {
      const here = await createAccount(store, { email: 'here@example.com', plan: 'unlimited' }, Date.now());
      const there = await createAccount(store, { email: 'there@example.com', plan: 'unlimited' }, Date.now());
      const ids = { [here.id]: await acceptSome(here.id, 3), [there.id]: await acceptSome(there.id, 3) };
      const sandbox = new SandboxDriver(store, NO_DRIVER_EVENTS);
      let elsewhere = [there.id];
      let rounds = 0; // claim rounds: each asks which accounts are served elsewhere
      const dispatcher = dispatcherFor(
        Object.assign(Object.create(sandbox) as SandboxDriver, {
          accountsServedElsewhere: async () => {
            rounds += 1;
            return elsewhere;
          },
        }),
      );
      const statuses = async (accountId: string) =>
        (await store.db.selectFrom('messages').select('status').where('account_id', '=', accountId).execute()).map((r) => r.status);
      dispatcher.start();
      try {
        await expect.poll(() => statuses(here.id), { timeout: 10_000 }).toEqual(['sent', 'sent', 'sent']);
        // Two more claim rounds, both after `here` was done: neither took `there`'s messages.
        const seen = rounds;
        await expect.poll(() => rounds, { timeout: 10_000 }).toBeGreaterThanOrEqual(seen + 2);
        expect(await statuses(there.id)).toEqual(['pending', 'pending', 'pending']);
        const jobs = await store.db.selectFrom('outbox').select(['locked_by', 'attempts']).where('account_id', '=', there.id).execute();
        expect(jobs).toEqual([
          { locked_by: null, attempts: 0 },
          { locked_by: null, attempts: 0 },
          { locked_by: null, attempts: 0 },
        ]);
        elsewhere = []; // the other process let the session go
        dispatcher.kick();
        await expect.poll(() => statuses(there.id), { timeout: 10_000 }).toEqual(['sent', 'sent', 'sent']);
      } finally {
        await dispatcher.stop();
      }
      // These two accounts' sends only: the file's other test sends on the same store.
      const sends = await store.db.selectFrom('sandbox_sends').select('message_id').where('account_id', 'in', [here.id, there.id]).execute();
      expect(sends.map((s) => s.message_id).sort()).toEqual([...ids[here.id]!, ...ids[there.id]!].sort());
    });

    it("does not claim again for new messages of an account whose lane is running: that lane's end claims them", async () => {
      const { id } = await createAccount(store, { email: 'busy@example.com', plan: 'unlimited' }, Date.now());
      const first = await acceptSome(id, 1);
      const sandbox = new SandboxDriver(store, NO_DRIVER_EVENTS);
      let rounds = 0; // claim rounds: each asks which accounts are served elsewhere
      let sending = () => {};
      const inSend = new Promise<void>((resolve) => (sending = resolve));
      let letGo = () => {};
      const held = new Promise<void>((resolve) => (letGo = resolve));
      // No idle polls during the test: a claim round happens only when kicked or when a lane ends.
      const dispatcher = dispatcherFor(
        Object.assign(Object.create(sandbox) as SandboxDriver, {
          accountsServedElsewhere: async () => {
            rounds += 1;
            return [];
          },
          send: async (message: Parameters<SandboxDriver['send']>[0]) => {
            sending();
            await held;
            return sandbox.send(message);
          },
        }),
        600_000,
      );
      dispatcher.start();
      try {
        await inSend;
        const before = rounds;
        const more = await acceptSome(id, 30);
        for (let i = 0; i < 30; i++) dispatcher.kick(id);
        // A kick that wakes the loop starts its round in the same turn of the event loop (the round
        // asks accountsServedElsewhere before anything it awaits), so one turn later it would show.
        await new Promise((r) => setImmediate(r));
        expect(rounds).toBe(before);
        // Any other kick still claims at once.
        dispatcher.kick();
        await expect.poll(() => rounds, { timeout: 10_000 }).toBe(before + 1);
        letGo();
        const statuses = async () => (await store.db.selectFrom('messages').select('status').where('id', 'in', [...first, ...more]).execute()).map((r) => r.status);
        await expect.poll(statuses, { timeout: 10_000 }).toEqual(Array(31).fill('sent'));
      } finally {
        letGo();
        await dispatcher.stop();
      }
    });

    it('on stop finishes the message in hand and hands the rest of its claim back at once', async () => {
      const { id } = await createAccount(store, { email: 'slow@example.com', plan: 'unlimited' }, Date.now());
      await acceptSome(id, 20);
      const sandbox = new SandboxDriver(store, NO_DRIVER_EVENTS);
      // A paced driver, as a real session is: 100 ms a message.
      const dispatcher = dispatcherFor(
        Object.assign(Object.create(sandbox) as SandboxDriver, {
          send: async (message: Parameters<SandboxDriver['send']>[0]) => {
            await new Promise((r) => setTimeout(r, 100));
            return sandbox.send(message);
          },
        }),
      );
      const statuses = async () => (await store.db.selectFrom('messages').select('status').where('account_id', '=', id).execute()).map((r) => r.status);
      dispatcher.start();
      await expect.poll(async () => (await statuses()).filter((s) => s === 'sent').length, { timeout: 10_000, interval: 20 }).toBeGreaterThan(0);
      const stopping = Date.now();
      await dispatcher.stop();
      expect(Date.now() - stopping).toBeLessThan(1000);
      const left = (await statuses()).filter((s) => s === 'pending').length;
      expect(left).toBeGreaterThan(10);
      const jobs = await store.db.selectFrom('outbox').select(['locked_by']).where('account_id', '=', id).execute();
      expect(jobs).toHaveLength(left);
      expect(jobs.every((j) => j.locked_by === null)).toBe(true);
    });
  });
}
