import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventLogWaiters } from '../../src/core/event-log-waiters.js';
import { OutcomeNotifier } from '../../src/core/outcome-notifier.js';
import { Store } from '../../src/store/store.js';
import { testDialects } from '../helpers/databases.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * Issue 18: a send's `wait` in one process is woken when another process records the outcome
 * (PostgreSQL NOTIFY). The waiter here re-reads only once a minute, so only the announcement can
 * answer it within its 30 s. (SQLite is one process: test/http/send.test.ts covers its wait.)
 */
for (const dialect of testDialects().filter((d) => d === 'postgres')) {
  describe(`a send's wait woken by an outcome another process recorded (${dialect})`, () => {
    let t: TestApp;
    let elsewhere: Store;
    let notifier: OutcomeNotifier;

    beforeAll(async () => {
      t = await startTestApp(dialect);
      elsewhere = Store.open(t.database.url);
      notifier = new OutcomeNotifier(elsewhere, 60_000);
      await notifier.start();
    });
    afterAll(async () => {
      notifier.stop();
      await elsewhere.close();
      await t.close();
    });

    it('answers sent and failed outcomes recorded by the other process', async () => {
      const account = await t.createAccount('unlimited');
      await t.runtime.dispatcher.stop();
      const send = async (recipient: string) => {
        const res = await t.inject({ method: 'POST', url: '/api/v1/send', headers: { 'x-api-key': account.apiKey }, payload: { recipient, text: 'hello', wait: 0 } });
        expect(res.statusCode, res.body).toBe(200);
        return (res.json() as { messageId: string }).messageId;
      };
      const sentId = await send('12125551234');
      const failedId = await send('12125550000');
      const waits = [notifier.wait(sentId, 30_000), notifier.wait(failedId, 30_000)];
      t.runtime.dispatcher.start();
      expect(await Promise.all(waits)).toEqual([{ status: 'sent' }, { status: 'failed', error: 'The number 12125550000 is not on WhatsApp.' }]);
    }, 60_000);
  });
}

/** The event log's long-polls and streams: an append in one process wakes the waiters of another. */
for (const dialect of testDialects().filter((d) => d === 'postgres')) {
  describe(`event-log waiters woken by another process's append (${dialect})`, () => {
    let t: TestApp;
    let elsewhere: Store;
    const waiters = new EventLogWaiters();

    beforeAll(async () => {
      t = await startTestApp(dialect);
      elsewhere = Store.open(t.database.url);
      await waiters.listen(elsewhere);
    });
    afterAll(async () => {
      waiters.stopListeningElsewhere();
      await elsewhere.close();
      await t.close();
    });

    it('wakes a waiter of the account when the other process logs an event for it', async () => {
      const account = await t.createAccount('unlimited');
      const woken = waiters.wait(account.id, 30_000);
      const res = await t.inject({ method: 'POST', url: '/api/v1/sandbox/incoming', headers: { 'x-api-key': account.apiKey }, payload: { from: '12125559876', text: 'hi' } });
      expect(res.statusCode, res.body).toBe(200);
      expect(await woken).toBe(true);
    }, 60_000);
  });
}
