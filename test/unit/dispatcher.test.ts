import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createAccount, getAccount } from '../../src/core/accounts.js';
import { acceptMessage } from '../../src/core/messages.js';
import { OutcomeNotifier } from '../../src/core/outcome-notifier.js';
import { parseRecipient } from '../../src/core/recipients.js';
import { MessageDispatcher } from '../../src/delivery/message-dispatcher.js';
import type { Store } from '../../src/store/store.js';
import type { WhatsAppDriver } from '../../src/whatsapp/driver.js';
import { SandboxDriver } from '../../src/whatsapp/sandbox/sandbox-driver.js';
import { openTestStore, testDialects } from '../helpers/databases.js';

for (const dialect of testDialects()) {
  describe(`message dispatcher with several processes (${dialect})`, () => {
    let opened: Awaited<ReturnType<typeof openTestStore>>;
    let store: Store;
    beforeAll(async () => {
      opened = await openTestStore(dialect);
      store = opened.store;
    });
    afterAll(() => opened.close());

    const noEvents = { sessionChanged: async () => undefined, incoming: async () => undefined, receipt: async () => undefined };
    const dispatcherFor = (driver: WhatsAppDriver) =>
      new MessageDispatcher({
        store,
        driver,
        events: { record: async () => undefined },
        notifier: new OutcomeNotifier(),
        loadMedia: async () => {
          throw new Error('no media here');
        },
        log: pino({ level: 'silent' }),
        idlePollMs: 20,
      });
    const acceptSome = async (accountId: string, count: number) => {
      const config = loadConfig({ WHATSAPP_DRIVER: 'sandbox', DATA_DIR: opened.database.dataDir });
      const account = (await getAccount(store.db, accountId))!;
      const ids: string[] = [];
      for (let i = 0; i < count; i++) {
        ids.push((await acceptMessage(store, config, account, { recipient: parseRecipient('12125551234'), kind: 'text', text: `m${i}`, mediaUrl: null, filename: null }, Date.now())).messageId);
      }
      return ids;
    };

    it("leaves the messages of a session another process holds to that process, and sends them once it may", async () => {
      const here = await createAccount(store, { email: 'here@example.com', plan: 'unlimited' }, Date.now());
      const there = await createAccount(store, { email: 'there@example.com', plan: 'unlimited' }, Date.now());
      const ids = { [here.id]: await acceptSome(here.id, 3), [there.id]: await acceptSome(there.id, 3) };
      const sandbox = new SandboxDriver(store, noEvents);
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
      const sends = await store.db.selectFrom('sandbox_sends').select('message_id').execute();
      expect(sends.map((s) => s.message_id).sort()).toEqual([...ids[here.id]!, ...ids[there.id]!].sort());
    });

    it('on stop finishes the message in hand and hands the rest of its claim back at once', async () => {
      const { id } = await createAccount(store, { email: 'slow@example.com', plan: 'unlimited' }, Date.now());
      await acceptSome(id, 20);
      const sandbox = new SandboxDriver(store, noEvents);
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
