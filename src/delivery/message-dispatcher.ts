import type { Logger } from 'pino';
import { coerceError } from '../core/errors.js';
import { STORED_TEXT_LIMITS, storableText } from '../core/storable-text.js';
import { recordEvents, type EventRecorder } from '../core/events.js';
import { DISPATCH_COLUMNS, markFailed, markSentMany, type DispatchRow } from '../core/messages.js';
import { claimJobs, claimUrgentJobs, completeJob, completeJobs, releaseClaims, renewLocks, rescheduleJob, type OutboxJob } from '../core/outbox.js';
import { backInQueue, expiredError, releaseFromHand, takeInHand } from '../core/queue/in-hand.js';
import { byPriorityThenOrder } from '../core/queue/lane-order.js';
import { IN_HAND_CHUNK, InHandWindow } from './in-hand-window.js';
import type { OutcomeNotifier, MessageOutcome } from '../core/outcome-notifier.js';
import { MESSAGE_RETRY_SCHEDULE, nextRetryDelay } from '../core/retry-schedule.js';
import { afterCommit } from '../store/after-commit.js';
import type { Store, Tx } from '../store/store.js';
import type { MediaPayload, OutgoingMessage, SendOutcome, WhatsAppDriver } from '../core/driver-port.js';
import type { Metrics } from '../metrics.js';
import { isMediaKind, parseContent, type MediaMessageKind } from '../core/message-content.js';
import { recordMediaSummary, summariseMedia } from './media-summary.js';
import { applySentChange } from '../core/message-changes.js';
import { holdsLease } from '../core/scale-out/sql-lease-backend.js';
import type { SessionOwnership } from '../core/scale-out/session-ownership.js';

export type MediaLoader = (url: string, kind: MediaMessageKind, options?: { voice?: boolean }) => Promise<MediaPayload>;

export interface DispatcherDeps {
  store: Store;
  driver: WhatsAppDriver;
  events: EventRecorder;
  notifier: OutcomeNotifier;
  loadMedia: MediaLoader;
  log: Logger;
  metrics?: Metrics;
  clock?: () => number;
  /** How long a due message may wait for a connection before it fails `expired` (SEND_EXPIRY_DEFAULT). */
  maxPendingMs?: number;
  batchSize?: number;
  /** How long a claim holds its jobs; a lane renews it while it works, so only a dead process's claims expire. */
  lockMs?: number;
  maxLanes?: number;
  idlePollMs?: number;
  /**
   * Sessions shared between processes (issue 18): a lane sends only under this process's lease on
   * the session, and records outcomes only while that lease's token is still the one it sent under.
   * `takeOnDemand`: a free session is taken when its messages are claimed (the sandbox, whose
   * sessions need no socket); otherwise the messages wait for the session's holder.
   */
  fence?: { ownership: SessionOwnership; takeOnDemand: boolean };
}

interface Outcome {
  job: OutboxJob;
  row: DispatchRow;
  message: OutgoingMessage;
  result: SendOutcome;
}

const FLUSH_AFTER_MS = 20;
const FLUSH_AFTER_COUNT = 500;
/** How often a busy lane looks for more urgent messages of its account that arrived after its claim. */
const URGENT_CHECK_MS = 200;

/**
 * Sends the messages in the outbox through the driver: in order within an account, accounts side
 * by side (one lane each, so a slow account never holds back another). Outcomes are committed in
 * small batches; waiting requests hear of an outcome only once it is on disk.
 */
export class MessageDispatcher {
  private readonly owner = `dispatcher-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  private readonly busyAccounts = new Set<string>();
  private readonly laneOf = new Map<string, Promise<void>>();
  private readonly lanes = new Set<Promise<void>>();
  private running = false;
  private loopPromise: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private kicked = false;
  private readonly clock: () => number;
  private readonly lockMs: number;

  constructor(private readonly deps: DispatcherDeps) {
    this.clock = deps.clock ?? Date.now;
    this.lockMs = deps.lockMs ?? 15_000;
    // A session leaving this process: its lane stops before the next send (its fence fails) and
    // commits what it sent; the lease is let go only after that.
    deps.fence?.ownership.onLost((accountId) => this.laneOf.get(accountId));
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loopPromise = this.loop();
  }

  /** Stops claiming; lanes finish the message in hand, commit, and hand back the rest of their claim. */
  async stop(): Promise<void> {
    this.running = false;
    this.kick();
    await this.loopPromise;
    await Promise.allSettled([...this.lanes]);
  }

  /**
   * New work to claim now. Work of an account whose lane is running is left to that lane's end,
   * which claims again: claiming for every accepted message while a long backlog of busy accounts
   * sits in the outbox re-scanned that backlog each time (a quarter of the CPU under a send load).
   */
  kick(accountId?: string): void {
    if (accountId !== undefined && this.busyAccounts.has(accountId)) return;
    this.kicked = true;
    this.wake?.();
  }

  private async loop(): Promise<void> {
    const maxLanes = this.deps.maxLanes ?? 64;
    while (this.running) {
      this.kicked = false;
      let claimed: OutboxJob[] = [];
      if (this.busyAccounts.size < maxLanes) {
        try {
          const elsewhere = (await this.deps.driver.accountsServedElsewhere?.()) ?? [];
          claimed = await claimJobs(this.deps.store, {
            kind: 'message',
            owner: this.owner,
            now: this.clock(),
            limit: this.deps.batchSize ?? 1000,
            lockMs: this.lockMs,
            excludeAccounts: [...this.busyAccounts, ...elsewhere],
          });
        } catch (error) {
          this.deps.log.error({ err: coerceError(error) }, 'could not claim messages to send');
        }
      }
      const byAccount = new Map<string, OutboxJob[]>();
      for (const job of claimed) {
        const list = byAccount.get(job.account_id) ?? [];
        list.push(job);
        byAccount.set(job.account_id, list);
      }
      for (const [accountId, jobs] of byAccount) this.startLane(accountId, jobs);
      if (claimed.length === 0 && !this.kicked) await this.sleep(this.deps.idlePollMs ?? 250);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        done();
      };
    });
  }

  private startLane(accountId: string, jobs: OutboxJob[]): void {
    this.busyAccounts.add(accountId);
    const lane = this.runLane(jobs)
      .catch((error) => this.deps.log.error({ err: coerceError(error), accountId }, 'send lane failed'))
      .finally(() => {
        this.busyAccounts.delete(accountId);
        this.lanes.delete(lane);
        if (this.laneOf.get(accountId) === lane) this.laneOf.delete(accountId);
        this.kick();
      });
    this.lanes.add(lane);
    this.laneOf.set(accountId, lane);
  }

  private async runLane(jobs: OutboxJob[]): Promise<void> {
    const remaining = new Set(jobs.map((j) => j.seq));
    const renew = setInterval(() => {
      if (remaining.size === 0) return;
      renewLocks(this.deps.store, [...remaining], this.owner, this.clock() + this.lockMs).catch((error) =>
        this.deps.log.warn({ err: coerceError(error) }, 'could not renew the claim on messages being sent'),
      );
    }, Math.max(100, Math.floor(this.lockMs / 3)));
    try {
      await this.sendInOrder(jobs, remaining);
    } finally {
      clearInterval(renew);
    }
  }

  private async sendInOrder(jobs: OutboxJob[], remaining: Set<number>): Promise<void> {
    const { store } = this.deps;
    const accountId = jobs[0]!.account_id;
    const queue = [...jobs].sort(byPriorityThenOrder);
    const byId = new Map<string, DispatchRow>();
    const loadRows = async (list: OutboxJob[]) => {
      if (list.length === 0) return;
      const rows = await store.db.selectFrom('messages').select(DISPATCH_COLUMNS).where('id', 'in', list.map((j) => j.ref)).execute();
      for (const r of rows) byId.set(r.id, r);
    };
    await loadRows(queue);
    let pending: Outcome[] = [];
    let firstPendingAt = 0;
    let lastUrgentCheck = 0;
    const inHand = new InHandWindow((ids) => takeInHand(store, ids, this.clock()));
    const fence = this.deps.fence;
    let token: number | null = null;
    if (fence) {
      token = fence.ownership.sendToken(accountId) ?? (fence.takeOnDemand ? await fence.ownership.takeNow(accountId).catch(() => null) : null);
      if (token === null && fence.takeOnDemand) {
        // Another process holds the session: its messages are its to send.
        await releaseClaims(store, [...remaining], this.owner);
        remaining.clear();
        return;
      }
    }
    // Checked once per lane: a connection lost while the lane runs shows up as the driver's own retry outcome.
    const connected = await this.deps.driver.isConnected(accountId).catch(() => false);
    let fenced = false;
    while (queue.length > 0) {
      if (!this.running || fenced) break; // shutting down or lease gone: what is not in hand goes back to the outbox below
      if (connected && queue[0]!.priority > 0 && this.clock() - lastUrgentCheck >= URGENT_CHECK_MS) {
        lastUrgentCheck = this.clock();
        const urgent = await this.claimUrgent(accountId, queue[0]!.priority);
        if (urgent.length > 0) {
          await loadRows(urgent);
          for (const job of urgent) remaining.add(job.seq);
          queue.push(...urgent);
          queue.sort(byPriorityThenOrder);
        }
      }
      const job = queue.shift()!;
      const row = byId.get(job.ref);
      if (!row || (row.status !== 'pending' && row.status !== 'scheduled')) {
        await store.write((tx) => completeJob(tx, job.seq));
        remaining.delete(job.seq);
        continue;
      }
      const message = toOutgoing(row);
      let result: SendOutcome;
      const now = this.clock();
      if (row.expires_at !== null && Number(row.expires_at) <= now) {
        result = { status: 'failed', error: expiredError(row), code: 'expired' };
      } else if (!connected) {
        result = this.notConnected(row);
      } else {
        // In hand (from then on a cancel refuses it) before it goes out; the next ones are taken ahead.
        const upcoming = queue.slice(0, 2 * IN_HAND_CHUNK).map((j) => byId.get(j.ref)).filter((r): r is DispatchRow => r !== undefined && (r.status === 'pending' || r.status === 'scheduled'));
        if (!(await inHand.holds(row.id, upcoming.map((r) => r.id)))) {
          // Cancelled (or otherwise ended) since the lane read it: nothing to send.
          await store.write((tx) => completeJob(tx, job.seq));
          remaining.delete(job.seq);
          continue;
        }
        if (token !== null && fence!.ownership.sendToken(accountId) !== token) {
          // The lease is too close to its end (or gone): not one more send; the rest waits for the holder.
          queue.unshift(job);
          fenced = true;
          break;
        }
        message.leaseToken = token ?? undefined;
        result = await this.attempt(message, row.media_url);
      }
      if (pending.length === 0) firstPendingAt = this.clock();
      pending.push({ job, row, message, result });
      if (pending.length >= FLUSH_AFTER_COUNT || this.clock() - firstPendingAt >= FLUSH_AFTER_MS) {
        const recorded = await this.commit(pending, token);
        if (recorded) for (const done of pending) remaining.delete(done.job.seq);
        pending = [];
        if (!recorded) fenced = true;
      }
    }
    if (pending.length > 0 && (await this.commit(pending, token))) for (const done of pending) remaining.delete(done.job.seq);
    // Taken in hand but not attempted (shutting down): cancellable again.
    const held = await inHand.settled();
    const untried = queue.map((j) => j.ref).filter(held);
    // A lane that lost its lease leaves them in hand: the new holder may be sending them already.
    if (untried.length > 0 && !fenced) await store.write((tx) => releaseFromHand(tx, untried));
    if (remaining.size > 0) await releaseClaims(store, [...remaining], this.owner);
    remaining.clear();
  }

  private async claimUrgent(accountId: string, belowPriority: number): Promise<OutboxJob[]> {
    try {
      return await claimUrgentJobs(this.deps.store, { accountId, belowPriority, owner: this.owner, now: this.clock(), lockMs: this.lockMs, limit: 100 });
    } catch (error) {
      this.deps.log.warn({ err: coerceError(error), accountId }, 'could not look for more urgent messages');
      return [];
    }
  }

  /** Until WhatsApp is back, a message waits (without spending its retries), up to a limit. */
  private notConnected(row: DispatchRow): SendOutcome {
    const now = this.clock();
    // Held since it became due: its acceptance, or its sendAt for a scheduled message.
    const dueAt = Math.max(row.created_at, row.send_at === null ? 0 : Number(row.send_at));
    const limitMs = this.deps.maxPendingMs ?? 24 * 60 * 60 * 1000;
    if (now - dueAt > limitMs) {
      return { status: 'failed', error: `WhatsApp was not connected for too long (${Math.round(limitMs / 3_600_000)} h, SEND_EXPIRY_DEFAULT): the message expired unsent, so it will not arrive late.`, code: 'expired' };
    }
    return { status: 'retry', at: now + 5_000, error: 'WhatsApp is not connected.', countsAsAttempt: false };
  }

  /** The outcome's error text comes from the driver or a media server: stored only in storable form. */
  private async attempt(message: OutgoingMessage, mediaUrl: string | null): Promise<SendOutcome> {
    const outcome = await this.attemptOnce(message, mediaUrl);
    return outcome.status === 'sent' ? outcome : { ...outcome, error: storableText(outcome.error, STORED_TEXT_LIMITS.error) };
  }

  private async attemptOnce(message: OutgoingMessage, mediaUrl: string | null): Promise<SendOutcome> {
    const { driver, loadMedia } = this.deps;
    const now = this.clock();
    try {
      if (isMediaKind(message.kind) && !message.media) {
        try {
          message.media = await loadMedia(mediaUrl ?? '', message.kind, { voice: message.content?.voice === true });
        } catch (error) {
          return { status: 'failed', error: coerceError(error).message };
        }
        message.content = { ...message.content, media: summariseMedia(message.media) };
      }
      return await driver.send(message);
    } catch (error) {
      return { status: 'retry', at: now + 2_000, error: coerceError(error).message, countsAsAttempt: true };
    }
  }

  /**
   * Records a batch of outcomes (all of one account: a lane's) in one transaction, with one
   * statement per kind of change rather than one per message.
   */
  private async commit(outcomes: Outcome[], token: number | null): Promise<boolean> {
    const { store, events, notifier, metrics } = this.deps;
    const now = this.clock();
    const accountId = outcomes[0]!.row.account_id;
    const ownership = this.deps.fence?.ownership;
    const recorded = await store.write(async (tx) => {
      // Outcomes are recorded only under the token that made them: a process that lost the session
      // records nothing, and the new holder finds the messages pending.
      if (ownership && token !== null && !(await holdsLease(tx, store.dialect, accountId, ownership.id, token))) return false;
      const announced: Array<[string, MessageOutcome]> = [];
      const finished: number[] = [];
      const sent = outcomes.filter((o) => o.result.status === 'sent');
      if (sent.length > 0) {
        const recorded = await markSentMany(tx, sent.map((o) => o.row.id), now);
        const fresh = sent.filter((o) => recorded.has(o.row.id));
        if (fresh.length > 0) {
          await recordEvents(events, tx, fresh[0]!.row.account_id, fresh.map((o) => ({ event: 'message.sent' as const, message: { id: o.row.id, recipient: o.row.recipient, type: o.row.kind, status: 'sent' as const } })), now);
          for (const o of fresh) announced.push([o.row.id, { status: 'sent' }]);
          // The log shows what went out: the media's type, size and hash are known only now.
          for (const o of fresh) if (o.message.content?.media) await recordMediaSummary(tx, o.row.id, o.message.content);
          for (const o of fresh) await applySentChange(tx, o.row, now);
        }
        finished.push(...sent.map((o) => o.job.seq));
      }
      for (const { job, row, result } of outcomes) {
        if (result.status === 'retry') {
          await this.retryLater(tx, job, row, result, now, announced);
        } else if (result.status === 'failed') {
          await this.fail(tx, row, result.error, now, announced, result.code ?? null);
          finished.push(job.seq);
        }
      }
      await completeJobs(tx, finished);
      if (announced.length > 0) await notifier.announce(tx, announced.map(([id]) => id));
      // Only once this commit is durable, and once even if the write runs again (group commit).
      afterCommit(tx, () => {
        for (const [id, outcome] of announced) {
          notifier.notify(id, outcome);
          metrics?.messagesTotal.inc({ status: outcome.status });
        }
      });
      return true;
    });
    if (!recorded) {
      this.deps.log.warn({ accountId, token }, 'the session moved to another process before these outcomes were recorded; left for its new holder');
      return false;
    }
    for (const { row, result } of outcomes) {
      if (result.status !== 'retry') metrics?.dispatchLatency.observe((now - row.created_at) / 1000);
    }
    return true;
  }

  private async retryLater(tx: Tx, job: OutboxJob, row: DispatchRow, result: Extract<SendOutcome, { status: 'retry' }>, now: number, announced: Array<[string, MessageOutcome]>) {
    await backInQueue(tx, row.id);
    // Never later than its expiry: it is failed `expired` then, not left to wait.
    if (row.expires_at !== null) result = { ...result, at: Math.min(result.at, Number(row.expires_at)) };
    if (result.countsAsAttempt) {
      const delay = nextRetryDelay(MESSAGE_RETRY_SCHEDULE, job.attempts + 1);
      if (delay === null) {
        await this.fail(tx, row, result.error, now, announced);
        await completeJob(tx, job.seq);
        return;
      }
      await rescheduleJob(tx, job.seq, Math.max(result.at, now + delay), result.error, true);
      return;
    }
    await rescheduleJob(tx, job.seq, result.at, result.error, false);
  }

  private async fail(tx: Tx, row: DispatchRow, error: string, now: number, announced: Array<[string, MessageOutcome]>, code: string | null = null) {
    if (!(await markFailed(tx, row, error, code))) return;
    await this.deps.events.record(tx, row.account_id, { event: 'message.failed', message: { id: row.id, recipient: row.recipient, type: row.kind, status: 'failed', error } }, now);
    announced.push([row.id, { status: 'failed', error }]);
  }
}

function toOutgoing(row: DispatchRow): OutgoingMessage {
  return {
    id: row.id,
    accountId: row.account_id,
    recipient: row.recipient,
    kind: row.kind as OutgoingMessage['kind'],
    text: row.text,
    filename: row.filename,
    waMessageId: row.wa_message_id,
    createdAt: row.created_at,
    content: parseContent(row.content),
  };
}
