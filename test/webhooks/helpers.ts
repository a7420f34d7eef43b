import { expect } from 'vitest';
import type { TestApp } from '../helpers/test-app.js';
import type { TestReceiver } from './receiver.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A clock the test moves by hand, starting at the real time. */
export function fakeClock() {
  const clock = { now: Date.now(), read: () => clock.now };
  return clock;
}

/** Points an Unlimited account's webhook at the receiver and teaches the receiver its secret. */
export async function connectReceiver(t: TestApp, apiKey: string, receiver: TestReceiver, path = ''): Promise<string> {
  const res = await t.inject({ method: 'PATCH', url: '/api/v1/settings', headers: { 'x-api-key': apiKey }, payload: { webhookUrl: receiver.url + path } });
  expect(res.statusCode, res.body).toBe(200);
  const secret = res.json().webhookSecret ?? receiver.secret;
  receiver.secret = secret;
  return secret;
}

export async function deliveries(t: TestApp, apiKey: string, query = ''): Promise<any[]> {
  const res = await t.inject({ method: 'GET', url: `/api/v1/webhooks/deliveries?limit=1000${query}`, headers: { 'x-api-key': apiKey } });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().deliveries;
}

/** The next due webhook job, or null when none is waiting. */
export async function nextWebhookRun(t: TestApp, accountId: string): Promise<number | null> {
  const row = await t.runtime.store.db
    .selectFrom('outbox')
    .select((eb) => eb.fn.min<number>('run_at').as('next'))
    .where('kind', '=', 'webhook')
    .where('account_id', '=', accountId)
    .executeTakeFirst();
  return row?.next == null ? null : Number(row.next);
}

/**
 * Moves the fake clock to each next due attempt and lets the worker run it, until `done` holds.
 * No sleeping through the schedule: a day of retries takes a moment.
 */
export async function runSchedule(t: TestApp, clock: { now: number }, accountId: string, done: () => Promise<boolean>, maxSteps = 400): Promise<void> {
  for (let i = 0; i < maxSteps; i++) {
    if (await done()) return;
    const next = await nextWebhookRun(t, accountId);
    if (next !== null && next > clock.now) clock.now = next;
    t.runtime.eventDelivery.kick();
    await sleep(25);
  }
  const jobs = await t.runtime.store.db.selectFrom('outbox').selectAll().where('account_id', '=', accountId).execute();
  const rows = await t.runtime.store.db.selectFrom('webhook_deliveries').select(['status', 'attempts', 'next_attempt_at']).where('account_id', '=', accountId).execute();
  throw new Error(`the webhook schedule did not settle: clock ${clock.now}, jobs ${JSON.stringify(jobs)}, deliveries ${JSON.stringify(rows)}, in flight ${t.runtime.eventDelivery.webhookWorker.inFlight}`);
}
