import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { getAccount, type Account } from '../../src/core/accounts.js';
import { acceptMessage } from '../../src/core/messages.js';
import { parseRecipient } from '../../src/core/recipients.js';
import type { Store } from '../../src/store/store.js';
import { WalFlusher } from '../../src/store/wal-flusher.js';
import { testDialects } from '../helpers/databases.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { TestReceiver } from '../webhooks/receiver.js';
import { connectReceiver } from '../webhooks/helpers.js';

/** A counter's value in the Prometheus text of GET /metrics (0 when the series does not exist yet). */
async function metric(t: TestApp, series: string): Promise<number> {
  const text = (await t.inject({ method: 'GET', url: '/metrics' })).body;
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

/**
 * The dispatcher's write that records outcomes gets a companion right behind it in the same
 * group-commit batch: a send from an account past its daily limit, which throws
 * `daily_limit_reached` inside its write, as happens under ordinary load. On SQLite the batch is
 * then rolled back and run again with savepoints, so the dispatcher's write runs twice; on
 * PostgreSQL (no group commit) each write is its own transaction and the counts must be the same.
 */
function behindEachOutcomeWrite(store: Store, overLimit: Account, config: TestApp['runtime']['config']) {
  const original = store.write.bind(store);
  let refused = 0;
  let companion = false;
  const stackLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 100;
  const spy = vi.spyOn(store, 'write').mockImplementation(((fn: Parameters<Store['write']>[0]) => {
    const result = original(fn);
    if (!companion && new Error().stack?.includes('MessageDispatcher.commit')) {
      companion = true;
      // acceptMessage reaches store.write synchronously: its write joins this one's batch.
      acceptMessage(store, config, overLimit, { recipient: parseRecipient('12125550100'), kind: 'text', text: 'over the limit', mediaUrl: null, filename: null }, Date.now()).then(
        () => expect.unreachable('the account is past its daily limit'),
        (error: { code?: string }) => {
          expect(error.code).toBe('daily_limit_reached');
          refused += 1;
        },
      );
      companion = false;
    }
    return result;
  }) as Store['write']);
  return {
    refused: () => refused,
    restore() {
      spy.mockRestore();
      Error.stackTraceLimit = stackLimit;
    },
  };
}

for (const dialect of testDialects()) {
  describe(`side effects of writes in a batch with a failing write (${dialect})`, () => {
    let t: TestApp;
    let receiver: TestReceiver;

    beforeAll(async () => {
      t = await startTestApp(dialect, { env: { PLAN_TRIAL_DAILY_LIMIT: '1', ALLOW_PRIVATE_URLS: 'true' } });
      receiver = await TestReceiver.start();
    });
    afterAll(async () => {
      await t.close();
      await receiver.close();
    });

    it('counts each outcome once in /metrics, answers each wait once, and queues one webhook per event', async () => {
      const sender = await t.createAccount('unlimited');
      await connectReceiver(t, sender.apiKey, receiver);
      const trial = await t.createAccount('trial');
      const first = await t.inject({ method: 'POST', url: '/api/v1/send', headers: { 'x-api-key': trial.apiKey }, payload: { recipient: '12125550100', text: 'the one allowed' } });
      expect(first.statusCode, first.body).toBe(200);
      const overLimit = (await getAccount(t.runtime.store.db, trial.id))!;

      const sentBefore = await metric(t, 'messageapi_messages_total{status="sent"}');
      const failedBefore = await metric(t, 'messageapi_messages_total{status="failed"}');
      const notify = vi.spyOn(t.runtime.notifier, 'notify');
      const probe = behindEachOutcomeWrite(t.runtime.store, overLimit, t.runtime.config);
      let answers;
      try {
        answers = await Promise.all([
          ...['12125551201', '12125551202', '12125551203', '12125551204'].map((recipient) =>
            t.inject({ method: 'POST', url: '/api/v1/send', headers: { 'x-api-key': sender.apiKey }, payload: { recipient, text: 'hello', wait: 10_000 } }),
          ),
          t.inject({ method: 'POST', url: '/api/v1/send', headers: { 'x-api-key': sender.apiKey }, payload: { recipient: '12125550000', text: 'not on WhatsApp', wait: 10_000 } }),
        ]);
        // On PostgreSQL the companion is a transaction of its own: its refusal may land after the answers.
        await expect.poll(() => probe.refused(), { timeout: 5_000 }).toBeGreaterThan(0);
      } finally {
        probe.restore();
      }
      expect(answers.slice(0, 4).map((a) => [a.statusCode, a.json().status])).toEqual(Array(4).fill([200, 'sent']));
      expect(answers[4]!.statusCode).toBe(400);
      expect(answers[4]!.json().code).toBe('send_failed');

      expect((await metric(t, 'messageapi_messages_total{status="sent"}')) - sentBefore).toBe(4);
      expect((await metric(t, 'messageapi_messages_total{status="failed"}')) - failedBefore).toBe(1);
      const ids = answers.map((a) => a.json().messageId as string);
      for (const id of ids) expect(notify.mock.calls.filter(([messageId]) => messageId === id)).toHaveLength(1);
      notify.mockRestore();

      // One webhook per event, each delivered once.
      await expect.poll(() => receiver.events().filter((e) => ids.includes(e.body.data?.id ?? e.body.message?.id)).length, { timeout: 15_000 }).toBe(5);
      const events = receiver.events().filter((e) => ids.includes(e.body.data?.id ?? e.body.message?.id));
      expect(events.map((e) => e.body.type ?? e.body.event).sort()).toEqual(['message.failed', 'message.sent', 'message.sent', 'message.sent', 'message.sent']);
      expect(new Set(events.map((e) => e.id)).size).toBe(5);
    });

    // PostgreSQL has no flusher of ours: its commit is durable when it returns.
    if (dialect === 'sqlite') it('answers a send 5xx, not success, when the flush that would make it durable fails', async () => {
      const sender = await t.createAccount('unlimited');
      const flush = vi.spyOn(WalFlusher.prototype, 'flush').mockRejectedValue(new Error('EIO: the disk went away'));
      let res;
      try {
        res = await t.inject({ method: 'POST', url: '/api/v1/send', headers: { 'x-api-key': sender.apiKey }, payload: { recipient: '12125551234', text: 'not durable', wait: 0 } });
      } finally {
        flush.mockRestore();
      }
      expect(res.statusCode).toBeGreaterThanOrEqual(500);
      expect(res.json()).toMatchObject({ success: false, code: expect.any(String) });
      expect(res.json().messageId).toBeUndefined();
    });
  });
}
