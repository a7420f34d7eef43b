import { describe, expect, it } from 'vitest';
import { createAccount } from '../../src/core/accounts.js';
import type { EventRecorder, GatewayEvent } from '../../src/core/events.js';
import { OutcomeNotifier } from '../../src/core/outcome-notifier.js';
import { MESSAGE_RETRY_SCHEDULE } from '../../src/core/retry-schedule.js';
import { recordSessionChange } from '../../src/core/sessions.js';
import { afterCommit } from '../../src/store/after-commit.js';
import type { Store } from '../../src/store/store.js';
import type { OutgoingMessage, SessionView, WhatsAppDriver } from '../../src/whatsapp/driver.js';
import { SandboxDriver } from '../../src/whatsapp/sandbox/sandbox-driver.js';
import { testDialects, useTestStore } from '../helpers/databases.js';
import { acceptText, testDispatcher } from '../helpers/dispatcher-setup.js';

const HOUR = 60 * 60 * 1000;

/**
 * The dispatcher's retry policy run to its end under a fake clock: the test moves the clock to
 * each due time the dispatcher itself wrote, and kicks it; nothing waits for real time to pass.
 */
for (const dialect of testDialects()) {
  describe(`message retries end where the README says (${dialect})`, () => {
    let store: Store;
    const opened = useTestStore(dialect, (s) => (store = s));

    const clock = { now: Date.now() };
    // The sandbox keeps its session state in wa_sessions, as the gateway records it.
    const driverEvents = {
      sessionChanged: (accountId: string, view: SessionView) => recordSessionChange(store, { record: async () => undefined }, accountId, view, clock.now),
      incoming: async () => '',
      incomingChange: async () => undefined,
      receipt: async () => undefined,
    };

    function harness(driver: WhatsAppDriver) {
      const events: GatewayEvent[] = [];
      const recorder: EventRecorder = { record: async (tx, _accountId, event) => afterCommit(tx, () => events.push(event)) };
      const notifier = new OutcomeNotifier();
      const dispatcher = testDispatcher(store, driver, { events: recorder, notifier, clock: () => clock.now });
      return { dispatcher, events, notifier };
    }

    const accept = (accountId: string) => acceptText(store, opened.database.dataDir, accountId, 'hello', { now: clock.now });

    const job = (messageId: string) => store.db.selectFrom('outbox').selectAll().where('ref', '=', messageId).executeTakeFirst();
    const message = (messageId: string) => store.db.selectFrom('messages').select(['status', 'error']).where('id', '=', messageId).executeTakeFirstOrThrow();

    /** Waits (on the database, not the clock) until the dispatcher has put the job back with a new due time, or finished it. */
    async function settledAfter(messageId: string, previousRunAt: number) {
      await expect
        .poll(async () => {
          const row = await job(messageId);
          return row === undefined || (row.locked_by === null && row.run_at !== previousRunAt);
        }, { timeout: 10_000, interval: 10 })
        .toBe(true);
      return job(messageId);
    }

    it('gives a message up after the whole schedule of retryable failures: failed with the reason, message.failed once', async () => {
      const { id: accountId } = await createAccount(store, { email: 'flaky@example.com', plan: 'unlimited' }, clock.now);
      const sandbox = new SandboxDriver(store, driverEvents, () => clock.now);
      const tries: number[] = [];
      // WhatsApp unreachable for as long as it takes: every send throws, as a closed socket does.
      const driver = Object.assign(Object.create(sandbox) as SandboxDriver, {
        send: async (_message: OutgoingMessage) => {
          tries.push(clock.now);
          throw new Error('Connection Closed');
        },
      });
      const { dispatcher, events, notifier } = harness(driver);
      const messageId = await accept(accountId);
      const outcome = notifier.wait(messageId, 30_000);
      dispatcher.start();
      try {
        let runAt: number | null = clock.now;
        for (let i = 0; i <= MESSAGE_RETRY_SCHEDULE.length + 1; i++) {
          const row = await settledAfter(messageId, runAt);
          if (!row) break;
          expect(row.attempts).toBe(i + 1);
          expect(row.last_error).toBe('Connection Closed');
          runAt = row.run_at;
          clock.now = Math.max(clock.now, row.run_at);
          dispatcher.kick();
        }
        expect(await job(messageId)).toBeUndefined();
        expect(await message(messageId)).toEqual({ status: 'failed', error: 'Connection Closed' });
        expect(await outcome).toEqual({ status: 'failed', error: 'Connection Closed' });
        // The first try and one per entry of the schedule, each gap the scheduled delay ±20%.
        expect(tries).toHaveLength(MESSAGE_RETRY_SCHEDULE.length + 1);
        const gaps = tries.slice(1).map((at, i) => at - tries[i]!);
        gaps.forEach((gap, i) => {
          expect(gap).toBeGreaterThanOrEqual(Math.floor(MESSAGE_RETRY_SCHEDULE[i]! * 0.8));
          expect(gap).toBeLessThanOrEqual(Math.ceil(MESSAGE_RETRY_SCHEDULE[i]! * 1.2));
        });
        expect(events).toEqual([{ event: 'message.failed', message: { id: messageId, recipient: '12125551234', type: 'text', status: 'failed', error: 'Connection Closed' } }]);
      } finally {
        await dispatcher.stop();
      }
    });

    it('fails a message whose session stays down past 24 hours, without spending its retries before that', async () => {
      const { id: accountId } = await createAccount(store, { email: 'down@example.com', plan: 'unlimited' }, clock.now);
      const sandbox = new SandboxDriver(store, driverEvents, () => clock.now);
      const { dispatcher, events } = harness(sandbox);
      const messageId = await accept(accountId);
      const acceptedAt = clock.now;
      await sandbox.simulateDisconnect(accountId, 'connection_lost');
      dispatcher.start();
      try {
        let row = await settledAfter(messageId, acceptedAt);
        expect(row).toMatchObject({ attempts: 0, last_error: 'WhatsApp is not connected.' });
        // Just inside the cut-off it still waits, and has not used an attempt.
        clock.now = acceptedAt + 24 * HOUR;
        dispatcher.kick();
        row = await settledAfter(messageId, row!.run_at);
        expect(row).toMatchObject({ attempts: 0, last_error: 'WhatsApp is not connected.' });
        expect((await message(messageId)).status).toBe('pending');
        expect(events).toEqual([]);
        // Past it, the message fails.
        clock.now = row!.run_at;
        dispatcher.kick();
        expect(await settledAfter(messageId, row!.run_at)).toBeUndefined();
        const error = 'WhatsApp was not connected for too long (24 h, SEND_EXPIRY_DEFAULT): the message expired unsent, so it will not arrive late.';
        expect(await message(messageId)).toEqual({ status: 'failed', error });
        expect((await store.db.selectFrom('messages').select('error_code').where('id', '=', messageId).executeTakeFirstOrThrow()).error_code).toBe('expired');
        // The commit is visible to readers a moment before it is flushed and its effects run.
        await expect.poll(() => events.length, { timeout: 5_000 }).toBe(1);
        expect(events).toEqual([{ event: 'message.failed', message: { id: messageId, recipient: '12125551234', type: 'text', status: 'failed', error } }]);
      } finally {
        await dispatcher.stop();
      }
    });
  });
}
