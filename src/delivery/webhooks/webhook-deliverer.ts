import type { Logger } from 'pino';
import type { Config, PlanName } from '../../config.js';
import { completeJob, rescheduleJob, type OutboxJob } from '../../core/outbox.js';
import { WEBHOOK_RETRY_SCHEDULE, nextRetryDelay, type RetrySchedule } from '../../core/retry-schedule.js';
import type { SecretBox } from '../../core/secret-box.js';
import { abandonDelivery, recordAttempt, type DeliveryRow } from '../../core/webhook-deliveries.js';
import type { Store, Tx } from '../../store/store.js';
import type { LookupFn } from '../media/resolve-host.js';
import type { ReceiverAgents } from './receiver-agents.js';
import { sendWebhook, type AttemptResult } from './send-webhook.js';

export interface WebhookDelivererDeps {
  store: Store;
  config: Config;
  box: SecretBox;
  agents: ReceiverAgents;
  log: Logger;
  /** Schedules retries (injectable: tests move it hours ahead). */
  clock: () => number;
  /** `webhook-timestamp` is wall time, because receivers compare it with their own clock. */
  wallClock?: () => number;
  /** Jitter source (injectable for tests). */
  random?: () => number;
  schedule?: RetrySchedule;
  lookup?: LookupFn;
}

export interface WebhookTarget {
  plan: string;
  url: string | null;
  sealedSecret: string | null;
  retiredUrl: string | null;
}

const DAY = 24 * 60 * 60 * 1000;
/** Receivers saying "too busy": the next try waits at least this long, or what Retry-After asks. */
const THROTTLE_STATUSES = new Set([429, 502, 503, 504]);
const THROTTLE_MIN_MS = 30_000;
const RETRY_AFTER_MAX_MS = 10 * 60 * 60 * 1000;

export async function loadTarget(db: Tx, accountId: string): Promise<WebhookTarget | undefined> {
  const row = await db
    .selectFrom('accounts')
    .leftJoin('webhook_retired_urls', 'webhook_retired_urls.account_id', 'accounts.id')
    .select(['accounts.plan', 'accounts.webhook_url', 'accounts.webhook_secret', 'webhook_retired_urls.url as retired_url'])
    .where('accounts.id', '=', accountId)
    .executeTakeFirst();
  return row ? { plan: row.plan, url: row.webhook_url, sealedSecret: row.webhook_secret, retiredUrl: row.retired_url } : undefined;
}

/** Why an account's events cannot be delivered now, or null when they can. */
export function undeliverableReason(config: Config, target: WebhookTarget | undefined): string | null {
  if (!target) return 'The account no longer exists.';
  if (!config.plans[target.plan as PlanName]?.webhooks) return `Webhooks need the Unlimited plan; the account is on ${target.plan}.`;
  if (!target.url || !target.sealedSecret) return 'No webhook URL is set.';
  if (target.retiredUrl === target.url) return 'The receiver answered 410 Gone earlier: deliveries to this URL are stopped until it is set again.';
  return null;
}

/**
 * Runs one webhook outbox job: one attempt, then, in one transaction, the attempt's log row, the
 * delivery's new state and the job's completion or next run (the schedule with jitter; at least
 * 24 h in all before `dead`). 410 retires the URL for the account.
 */
export class WebhookDeliverer {
  private readonly wallClock: () => number;

  constructor(private readonly deps: WebhookDelivererDeps) {
    this.wallClock = deps.wallClock ?? Date.now;
  }

  readonly handle = async (job: OutboxJob): Promise<void> => {
    const { store, config } = this.deps;
    const delivery = await store.db.selectFrom('webhook_deliveries').selectAll().where('id', '=', job.ref).executeTakeFirst();
    if (!delivery || delivery.status !== 'pending') {
      await store.write((tx) => completeJob(tx, job.seq));
      return;
    }
    const target = await loadTarget(store.db, delivery.account_id);
    const reason = undeliverableReason(config, target);
    if (reason || !target?.url || !target.sealedSecret) {
      const now = this.deps.clock();
      await store.write(async (tx) => {
        await abandonDelivery(tx, delivery.id, reason ?? 'No webhook URL is set.', now);
        await completeJob(tx, job.seq);
      });
      return;
    }
    const attemptAt = this.deps.clock();
    const result = await this.attempt(target.url, this.deps.box.decrypt(target.sealedSecret), delivery);
    await store.write((tx) => this.settle(tx, job, delivery, target.url!, attemptAt, result));
  };

  attempt(url: string, secret: string, delivery: Pick<DeliveryRow, 'event_id' | 'payload'>): Promise<AttemptResult> {
    return sendWebhook(
      { url, secret, eventId: delivery.event_id, body: Buffer.from(delivery.payload, 'utf8'), timestampSeconds: Math.floor(this.wallClock() / 1000) },
      { allowPrivate: this.deps.config.allowPrivateUrls, timeoutMs: this.deps.config.webhooks.timeoutMs, agents: this.deps.agents, lookup: this.deps.lookup },
    );
  }

  private async settle(tx: Tx, job: OutboxJob, delivery: DeliveryRow, url: string, at: number, result: AttemptResult): Promise<void> {
    const attempt = { at, url, status: result.status, error: result.error, response: result.response, durationMs: result.durationMs };
    if (result.ok) {
      await recordAttempt(tx, delivery.id, attempt, { status: 'delivered', nextAttemptAt: null });
      await completeJob(tx, job.seq);
      return;
    }
    if (result.status === 410) {
      await recordAttempt(tx, delivery.id, attempt, { status: 'dead', nextAttemptAt: null });
      await retireUrl(tx, delivery.account_id, url, 410, at);
      await completeJob(tx, job.seq);
      this.deps.log.warn({ accountId: delivery.account_id }, 'webhook receiver answered 410 Gone: deliveries to its URL are stopped');
      return;
    }
    const next = this.nextAttemptAt(delivery.attempts + 1, delivery.created_at, at, result);
    if (next === null) {
      await recordAttempt(tx, delivery.id, attempt, { status: 'dead', nextAttemptAt: null });
      await completeJob(tx, job.seq);
      return;
    }
    await recordAttempt(tx, delivery.id, attempt, { status: 'pending', nextAttemptAt: next });
    await rescheduleJob(tx, job.seq, next, result.error, true);
  }

  /** When to try again after `made` failed attempts, or null to give up. */
  nextAttemptAt(made: number, createdAt: number, now: number, result: Pick<AttemptResult, 'status' | 'retryAfterMs'>): number | null {
    let delay = nextRetryDelay(this.deps.schedule ?? WEBHOOK_RETRY_SCHEDULE, made, this.deps.random);
    if (delay === null) {
      // Jitter can pull the schedule's total under a day; the promise is at least 24 h of retries.
      if (now >= createdAt + DAY) return null;
      delay = createdAt + DAY - now;
    }
    if (result.retryAfterMs !== null) delay = Math.max(delay, Math.min(result.retryAfterMs, RETRY_AFTER_MAX_MS));
    else if (result.status !== null && THROTTLE_STATUSES.has(result.status)) delay = Math.max(delay, THROTTLE_MIN_MS);
    return now + delay;
  }
}

export async function retireUrl(tx: Tx, accountId: string, url: string, status: number, at: number): Promise<void> {
  await tx
    .insertInto('webhook_retired_urls')
    .values({ account_id: accountId, url, status, at })
    .onConflict((oc) => oc.column('account_id').doUpdateSet({ url, status, at }))
    .execute();
}
