import type { Logger } from 'pino';
import type { Config, PlanName } from '../../config.js';
import { coerceError } from '../../core/errors.js';
import { STORED_TEXT_LIMITS, storableText } from '../../core/storable-text.js';
import { completeJob, completeJobs, rescheduleJob, type OutboxJob } from '../../core/outbox.js';
import { WEBHOOK_RETRY_SCHEDULE, nextRetryDelay, type RetrySchedule } from '../../core/retry-schedule.js';
import type { SecretBox } from '../../core/secret-box.js';
import { abandonDelivery, recordAttempts, type AttemptRecord, type DeliveryRow } from '../../core/webhook-deliveries.js';
import { queryTemplate } from '../../store/query-template.js';
import type { Store, Tx } from '../../store/store.js';
import type { LookupFn } from '../../core/url-policy/resolve-host.js';
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

interface Outcome {
  seq: number;
  /** null: the job is done (delivered or dead). */
  retryAt: number | null;
  record: AttemptRecord;
  /** 410 Gone: stop delivering to this URL for the account. */
  retire?: { accountId: string };
}

export interface WebhookTarget {
  plan: string;
  url: string | null;
  sealedSecret: string | null;
  retiredUrl: string | null;
}

const DAY = 24 * 60 * 60 * 1000;
const FLUSH_AFTER_MS = 20;
const FLUSH_AFTER_COUNT = 256;
/** Receivers saying "too busy": the next try waits at least this long, or what Retry-After asks. */
const THROTTLE_STATUSES = new Set([429, 502, 503, 504]);
const THROTTLE_MIN_MS = 30_000;
const RETRY_AFTER_MAX_MS = 10 * 60 * 60 * 1000;

/** A delivery with what its attempt needs from the account, in one read. */
const selectDeliveryWithTarget = queryTemplate((db, a: { id: string }) =>
  db
    .selectFrom('webhook_deliveries')
    .innerJoin('accounts', 'accounts.id', 'webhook_deliveries.account_id')
    .leftJoin('webhook_retired_urls', 'webhook_retired_urls.account_id', 'webhook_deliveries.account_id')
    .selectAll('webhook_deliveries')
    .select(['accounts.plan', 'accounts.webhook_url', 'accounts.webhook_secret', 'webhook_retired_urls.url as retired_url'])
    .where('webhook_deliveries.id', '=', a.id),
);

type DeliveryWithTarget = DeliveryRow & { plan: string; webhook_url: string | null; webhook_secret: string | null; retired_url: string | null };

/** Several deliveries with their targets in one read (a claim's worth). */
async function selectDeliveriesWithTargets(db: Tx, ids: string[]): Promise<Map<string, DeliveryWithTarget>> {
  const rows = await db
    .selectFrom('webhook_deliveries')
    .innerJoin('accounts', 'accounts.id', 'webhook_deliveries.account_id')
    .leftJoin('webhook_retired_urls', 'webhook_retired_urls.account_id', 'webhook_deliveries.account_id')
    .selectAll('webhook_deliveries')
    .select(['accounts.plan', 'accounts.webhook_url', 'accounts.webhook_secret', 'webhook_retired_urls.url as retired_url'])
    .where('webhook_deliveries.id', 'in', ids)
    .execute();
  return new Map(rows.map((r) => [r.id, r]));
}

/** How long an account's target, once read, is used without reading it again. */
const TARGET_FRESH_MS = 1_000;

function targetOf(row: DeliveryWithTarget): WebhookTarget {
  return { plan: row.plan, url: row.webhook_url, sealedSecret: row.webhook_secret, retiredUrl: row.retired_url };
}

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

  /** Deliveries read with their claim: what a job needs of them does not change while it is claimed. */
  private readonly prefetched = new Map<string, Promise<DeliveryWithTarget | undefined>>();
  /** Accounts' targets as last read; a job uses one up to a second old (a changed URL is seen within a second). */
  private readonly targets = new Map<string, { at: number; target: Promise<WebhookTarget | undefined> }>();

  /** A claim's deliveries and their targets, read in one query as soon as they are claimed, so a job does not read its own. */
  readonly prefetch = (jobs: OutboxJob[]): void => {
    const at = Date.now();
    const rows = selectDeliveriesWithTargets(this.deps.store.db, jobs.map((j) => j.ref)).catch(() => new Map<string, DeliveryWithTarget>());
    for (const job of jobs) this.prefetched.set(job.ref, rows.then((m) => m.get(job.ref)));
    if (this.targets.size > 10_000) this.targets.clear();
    for (const accountId of new Set(jobs.map((j) => j.account_id))) {
      const target = rows.then((m) => {
        const row = [...m.values()].find((r) => r.account_id === accountId);
        return row ? targetOf(row) : undefined;
      });
      this.targets.set(accountId, { at, target });
    }
  };

  /** Forgets what was read ahead (the worker stopped: its queued claims were handed back). */
  forgetPrefetched(): void {
    this.prefetched.clear();
    this.targets.clear();
  }

  private async load(job: OutboxJob): Promise<{ delivery: DeliveryRow; target: WebhookTarget } | undefined> {
    const early = this.prefetched.get(job.ref);
    this.prefetched.delete(job.ref);
    const ahead = early ? await early : undefined;
    const cached = this.targets.get(job.account_id);
    const target = ahead && cached && Date.now() - cached.at < TARGET_FRESH_MS ? await cached.target : undefined;
    if (ahead && target) return { delivery: ahead, target };
    const row = (await selectDeliveryWithTarget(this.deps.store.db, { id: job.ref })).rows[0];
    if (!row) return undefined;
    this.targets.set(row.account_id, { at: Date.now(), target: Promise.resolve(targetOf(row)) });
    return { delivery: row, target: targetOf(row) };
  }

  readonly handle = async (job: OutboxJob, release: () => void = () => undefined): Promise<void> => {
    const { store, config } = this.deps;
    const found = await this.load(job);
    if (!found || found.delivery.status !== 'pending') {
      await store.write((tx) => completeJob(tx, job.seq));
      return;
    }
    const { delivery, target } = found;
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
    // The receiver asked to slow down (429/502/503/504, Retry-After): the account's other
    // deliveries wait too, without spending an attempt.
    const pausedUntil = this.paused.get(delivery.account_id);
    if (pausedUntil !== undefined && pausedUntil > attemptAt) {
      await store.write(async (tx) => {
        await rescheduleJob(tx, job.seq, pausedUntil, 'Waiting: the receiver asked to slow down.', false);
        await tx.updateTable('webhook_deliveries').set({ next_attempt_at: pausedUntil }).where('id', '=', delivery.id).execute();
      });
      return;
    }
    const result = await this.attempt(target.url, this.secretOf(target.sealedSecret), delivery);
    // The URL is retired with this outcome (committed a moment later): the account's next jobs know it now.
    if (result.status === 410) this.targets.set(delivery.account_id, { at: Date.now(), target: Promise.resolve({ ...target, retiredUrl: target.url }) });
    const pause = throttleDelay(result);
    if (pause !== null) this.paused.set(delivery.account_id, Math.max(this.paused.get(delivery.account_id) ?? 0, attemptAt + pause));
    else if (result.ok) this.paused.delete(delivery.account_id);
    // The receiver has answered: the account's next delivery may start while this outcome commits.
    release();
    await this.commit(this.outcome(job, delivery, target.url, attemptAt, result));
  };

  /** Accounts whose receiver asked to slow down, until when (this process's view; a hint, not a rule). */
  private readonly paused = new Map<string, number>();

  private readonly secrets = new Map<string, string>();

  /** Decrypted secrets by their sealed form: a rotation seals anew, so nothing goes stale. */
  private secretOf(sealed: string): string {
    let secret = this.secrets.get(sealed);
    if (secret === undefined) {
      secret = this.deps.box.decrypt(sealed);
      if (this.secrets.size > 10_000) this.secrets.clear();
      this.secrets.set(sealed, secret);
    }
    return secret;
  }

  private flushTimer: NodeJS.Timeout | undefined;
  private pending: Array<{ outcome: Outcome; resolve: () => void; reject: (e: unknown) => void }> = [];

  /** Outcomes that finish together commit together: one transaction (one flush) for a burst. */
  private commit(outcome: Outcome): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ outcome, resolve, reject });
      // A few milliseconds' wait lets one flush to disk cover many outcomes; the receivers have
      // their answers already, so nothing waits on this but the bookkeeping.
      if (this.pending.length === 1) this.flushTimer = setTimeout(() => void this.flush(), FLUSH_AFTER_MS);
      else if (this.pending.length >= FLUSH_AFTER_COUNT) {
        clearTimeout(this.flushTimer);
        void this.flush();
      }
    });
  }

  /**
   * Writes a burst of outcomes in one transaction. If that fails, each outcome is written on its
   * own, so one account's bad outcome never fails another's (their receivers were not called
   * again: only the bookkeeping is repeated, and it is a pure function of the outcomes). An
   * outcome whose own write fails still has its attempt counted, in a bare write without the
   * receiver's text, so its retries end on schedule.
   */
  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    if (batch.length > 1) {
      try {
        await this.writeOutcomes(batch.map((b) => b.outcome));
        for (const item of batch) item.resolve();
        return;
      } catch (error) {
        this.deps.log.warn({ err: coerceError(error), outcomes: batch.length }, 'a batch of webhook outcomes failed to commit; writing each on its own');
      }
    }
    await Promise.all(
      batch.map(async (item) => {
        try {
          await this.writeOutcomes([item.outcome]);
          item.resolve();
        } catch (error) {
          await this.writeBareOutcome(item.outcome, error).then(item.resolve, item.reject);
        }
      }),
    );
  }

  private async writeOutcomes(outcomes: Outcome[]): Promise<void> {
    await this.deps.store.write(async (tx) => {
      await recordAttempts(tx, outcomes.map((o) => o.record));
      await completeJobs(tx, outcomes.filter((o) => o.retryAt === null).map((o) => o.seq));
      for (const o of outcomes) {
        if (o.retryAt !== null) await rescheduleJob(tx, o.seq, o.retryAt, o.record.attempt.error, true);
        if (o.retire) await retireUrl(tx, o.retire.accountId, o.record.attempt.url, 410, o.record.attempt.at);
      }
    });
  }

  /** The attempt and the delivery's new state without the receiver's words, which could not be stored. */
  private async writeBareOutcome(outcome: Outcome, cause: unknown): Promise<void> {
    const { deliveryId, attempt } = outcome.record;
    this.deps.log.error({ err: coerceError(cause), deliveryId }, "a webhook attempt's outcome could not be stored; recording it without the receiver's answer");
    const error = attempt.status !== null && attempt.status >= 200 && attempt.status <= 299 ? null : `${attempt.status === null ? 'The attempt failed' : `The receiver answered HTTP ${attempt.status}`}; its answer could not be stored.`;
    await this.writeOutcomes([{ ...outcome, record: { ...outcome.record, attempt: { ...attempt, response: null, error } } }]);
  }

  attempt(url: string, secret: string, delivery: Pick<DeliveryRow, 'event_id' | 'payload'>): Promise<AttemptResult> {
    return sendWebhook(
      { url, secret, eventId: delivery.event_id, body: Buffer.from(delivery.payload, 'utf8'), timestampSeconds: Math.floor(this.wallClock() / 1000) },
      { allowPrivate: this.deps.config.allowPrivateUrls, timeoutMs: this.deps.config.webhooks.timeoutMs, agents: this.deps.agents, lookup: this.deps.lookup },
    );
  }

  /** What one attempt means for its delivery and job. */
  private outcome(job: OutboxJob, delivery: DeliveryRow, url: string, at: number, result: AttemptResult): Outcome {
    // The error also goes to the outbox row: both only in storable form (a receiver's words are anyone's).
    const attempt = {
      at,
      url,
      status: result.status,
      error: storableText(result.error, STORED_TEXT_LIMITS.error),
      response: storableText(result.response, STORED_TEXT_LIMITS.response),
      durationMs: result.durationMs,
    };
    const done = (status: 'delivered' | 'dead', retire?: { accountId: string }): Outcome => ({
      seq: job.seq,
      retryAt: null,
      record: { deliveryId: delivery.id, attempt, next: { status, nextAttemptAt: null } },
      retire,
    });
    if (result.ok) return done('delivered');
    if (result.status === 410) {
      this.deps.log.warn({ accountId: delivery.account_id }, 'webhook receiver answered 410 Gone: deliveries to its URL are stopped');
      return done('dead', { accountId: delivery.account_id });
    }
    const next = this.nextAttemptAt(delivery.attempts + 1, delivery.created_at, at, result);
    if (next === null) return done('dead');
    return { seq: job.seq, retryAt: next, record: { deliveryId: delivery.id, attempt, next: { status: 'pending', nextAttemptAt: next } } };
  }

  /** When to try again after `made` failed attempts, or null to give up. */
  nextAttemptAt(made: number, createdAt: number, now: number, result: Pick<AttemptResult, 'status' | 'retryAfterMs'>): number | null {
    let delay = nextRetryDelay(this.deps.schedule ?? WEBHOOK_RETRY_SCHEDULE, made, this.deps.random);
    if (delay === null) {
      // Jitter can pull the schedule's total under a day; the promise is at least 24 h of retries.
      if (now >= createdAt + DAY) return null;
      delay = createdAt + DAY - now;
    }
    return now + Math.max(delay, throttleDelay(result) ?? 0);
  }
}

/** How long a receiver asked us to hold off: what Retry-After says, or 30 s for a "busy" status. */
function throttleDelay(result: Pick<AttemptResult, 'status' | 'retryAfterMs'>): number | null {
  if (result.retryAfterMs !== null) return Math.min(result.retryAfterMs, RETRY_AFTER_MAX_MS);
  if (result.status !== null && THROTTLE_STATUSES.has(result.status)) return THROTTLE_MIN_MS;
  return null;
}

export async function retireUrl(tx: Tx, accountId: string, url: string, status: number, at: number): Promise<void> {
  await tx
    .insertInto('webhook_retired_urls')
    .values({ account_id: accountId, url, status, at })
    .onConflict((oc) => oc.column('account_id').doUpdateSet({ url, status, at }))
    .execute();
}
