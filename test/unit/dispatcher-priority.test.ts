import { describe, expect, it } from 'vitest';
import { createAccount } from '../../src/core/accounts.js';
import { PRIORITY_RANK, type Priority } from '../../src/core/queue/queue-fields.js';
import type { Store } from '../../src/store/store.js';
import { SandboxDriver } from '../../src/whatsapp/sandbox/sandbox-driver.js';
import { testDialects, useTestStore } from '../helpers/databases.js';
import { acceptText, NO_DRIVER_EVENTS, testDispatcher } from '../helpers/dispatcher-setup.js';

for (const dialect of testDialects()) {
  describe(`priorities in a busy lane (${dialect})`, () => {
    let store: Store;
    const opened = useTestStore(dialect, (s) => (store = s));

    it('a high-priority message accepted while a lane works through a backlog of normal ones goes next, not at the end', { timeout: 60_000 }, async () => {
      const { id: accountId } = await createAccount(store, { email: 'busy@example.com', plan: 'unlimited' }, Date.now());
      const accept = (text: string, priority: Priority) =>
        acceptText(store, opened.database.dataDir, accountId, text, { queue: { sendAt: null, expiresAt: null, priority: PRIORITY_RANK[priority] } });
      const backlog: string[] = [];
      for (let i = 0; i < 60; i++) backlog.push(await accept(`bulk ${i}`, 'normal'));
      const sandbox = new SandboxDriver(store, NO_DRIVER_EVENTS);
      // A paced session, as a real one is: 25 ms a message, so the backlog takes a while.
      const paced = Object.assign(Object.create(sandbox) as SandboxDriver, {
        send: async (message: Parameters<SandboxDriver['send']>[0]) => {
          await new Promise((r) => setTimeout(r, 25));
          return sandbox.send(message);
        },
      });
      const dispatcher = testDispatcher(store, paced);
      const order = async () => (await store.db.selectFrom('sandbox_sends').select('message_id').where('account_id', '=', accountId).orderBy('seq').execute()).map((r) => r.message_id);
      dispatcher.start();
      try {
        await expect.poll(async () => (await order()).length, { timeout: 20_000, interval: 10 }).toBeGreaterThanOrEqual(5);
        const code = await accept('one-time code 123456', 'high');
        const sentBefore = (await order()).length;
        await expect.poll(async () => (await order()).length, { timeout: 30_000 }).toBe(61);
        const position = (await order()).indexOf(code);
        console.log(`high-priority message accepted after ${sentBefore} of 60 were sent went out at position ${position}`);
        // The lane looks for more urgent work every 200 ms: at 25 ms a send, within about 8 sends (20 allowed for load).
        expect(position).toBeLessThan(sentBefore + 20);
        expect(position).toBeLessThan(50);
        // The normal ones kept their acceptance order around it.
        expect((await order()).filter((id) => id !== code)).toEqual(backlog);
      } finally {
        await dispatcher.stop();
      }
    });
  });
}
