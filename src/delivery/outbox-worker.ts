import type { Logger } from 'pino';
import { coerceError } from '../core/errors.js';
import { STORED_TEXT_LIMITS, storableText } from '../core/storable-text.js';
import { claimJobs, rescheduleJob, type OutboxJob, type OutboxKind } from '../core/outbox.js';
import type { Store } from '../store/store.js';

/**
 * Runs one job to its end: it must complete or reschedule the job itself, in the same transaction
 * that records the outcome. A handler that throws gets its job retried after `crashDelayMs`.
 * `release` frees the job's place among the account's `perAccount` early, e.g. once the remote
 * side has answered and only the outcome's commit is left; the job stays claimed until the end.
 */
export type OutboxHandler = (job: OutboxJob, release: () => void) => Promise<void>;

export interface OutboxWorkerOptions {
  store: Store;
  kind: OutboxKind;
  handle: OutboxHandler;
  log: Logger;
  /** The gateway's clock: due times and locks are judged by it, so tests can move time. */
  clock?: () => number;
  /** Jobs of one account in flight at once. */
  perAccount?: number;
  /** Accounts worked on side by side; more wait for a free lane. */
  maxAccounts?: number;
  /** Jobs claimed per query. */
  batchSize?: number;
  /** How long a claim holds a job; renewed while the job is held, so only a dead process loses it. */
  lockMs?: number;
  /** Sleep between polls when there is nothing to do and nobody kicked. */
  idlePollMs?: number;
  crashDelayMs?: number;
  /** Told of each claim's new jobs before any of them runs (a handler may load what they need in one query). */
  claimed?: (jobs: OutboxJob[]) => void;
}

const CLAIM_SPACING_MS = 10;

interface Lane {
  queue: OutboxJob[];
  active: number;
}

/**
 * A generic outbox worker: claims jobs of one kind and runs them in lanes, one lane per account,
 * at most `perAccount` jobs of an account at a time. A lane with work still queued is left out of
 * the next claim, so an account whose receiver hangs holds only its own lane: every other
 * account's jobs keep being claimed and run (no head-of-line blocking across accounts).
 */
export class OutboxWorker {
  private readonly owner: string;
  private readonly lanes = new Map<string, Lane>();
  private readonly held = new Map<number, OutboxJob>();
  /** Jobs claimed again while still in hand (the handler had just released them): run once more after. */
  private readonly reclaimed = new Set<number>();
  private readonly running = new Set<Promise<void>>();
  private readonly clock: () => number;
  private active = false;
  private loopPromise: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private kicked = false;
  private hotUntil = 0;
  private lastRenewal = 0;
  private lastClaim = 0;

  constructor(private readonly options: OutboxWorkerOptions) {
    this.clock = options.clock ?? Date.now;
    this.owner = `${options.kind}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  }

  get kind(): OutboxKind {
    return this.options.kind;
  }

  start(): void {
    if (this.active) return;
    this.active = true;
    this.loopPromise = this.loop();
  }

  /** Stops claiming and waits for the jobs in hand; queued ones are released for the next start. */
  async stop(): Promise<void> {
    if (!this.active) return;
    this.active = false;
    this.kick();
    await this.loopPromise;
    const queued = [...this.lanes.values()].flatMap((lane) => lane.queue.splice(0));
    await Promise.allSettled([...this.running]);
    if (queued.length > 0) {
      await this.options.store
        .write((tx) =>
          tx
            .updateTable('outbox')
            .set({ locked_until: null, locked_by: null })
            .where('seq', 'in', queued.map((j) => j.seq))
            .where('locked_by', '=', this.owner)
            .execute(),
        )
        .catch(() => undefined);
    }
  }

  /**
   * Work may be due: claim now. Commits are not visible at once on every database, so for a short
   * while after a kick an empty claim is retried quickly instead of sleeping a full poll.
   */
  kick(): void {
    this.hotUntil = Date.now() + 200;
    this.wakeUp();
  }

  /** Claim again soon (a lane has room), without the quick retries a kick for new work gets. */
  private wakeUp(): void {
    this.kicked = true;
    this.wake?.();
  }

  /** Jobs held by this worker right now (claimed, queued or running). */
  get inFlight(): number {
    return this.held.size;
  }

  private async loop(): Promise<void> {
    const perAccount = this.options.perAccount ?? 4;
    const maxAccounts = this.options.maxAccounts ?? 64;
    while (this.active) {
      this.kicked = false;
      let claimed = 0;
      // Every new event and every finished job kicks; claims keep a few milliseconds apart so that
      // a burst of kicks costs one claim (one commit) rather than one each.
      const sinceClaim = Date.now() - this.lastClaim;
      if (sinceClaim < CLAIM_SPACING_MS) await new Promise((r) => setTimeout(r, CLAIM_SPACING_MS - sinceClaim));
      try {
        await this.renewLocks();
        if (this.lanes.size < maxAccounts) {
          this.lastClaim = Date.now();
          claimed = await this.claim(perAccount);
        }
      } catch (error) {
        this.options.log.error({ err: coerceError(error), kind: this.options.kind }, 'could not claim outbox jobs');
      }
      if (claimed === 0 && !this.kicked && this.active) {
        await this.sleep(Date.now() < this.hotUntil ? 10 : (this.options.idlePollMs ?? 500));
      }
    }
  }

  private async claim(perAccount: number): Promise<number> {
    // An account with jobs still waiting in its lane has enough for now.
    const exclude = [...this.lanes].filter(([, lane]) => lane.queue.length > 0 || lane.active >= perAccount).map(([id]) => id);
    const jobs = await claimJobs(this.options.store, {
      kind: this.options.kind,
      owner: this.owner,
      now: this.clock(),
      limit: this.options.batchSize ?? 100,
      lockMs: this.lockMs,
      excludeAccounts: exclude,
    });
    let fresh = 0;
    const news = jobs.filter((job) => !this.held.has(job.seq));
    if (news.length > 0) this.options.claimed?.(news);
    for (const job of jobs) {
      // A job in hand is never run twice at once: the claim that caught it (released by its
      // handler a moment ago, or its lock expired under a jumping clock) is honoured after it.
      if (this.held.has(job.seq)) {
        this.reclaimed.add(job.seq);
        continue;
      }
      this.held.set(job.seq, job);
      fresh++;
      let lane = this.lanes.get(job.account_id);
      if (!lane) {
        lane = { queue: [], active: 0 };
        this.lanes.set(job.account_id, lane);
      }
      lane.queue.push(job);
      this.pump(job.account_id, lane, perAccount);
    }
    return fresh;
  }

  private pump(accountId: string, lane: Lane, perAccount: number): void {
    // Once stopping, queued jobs stay queued; stop() hands their claims back.
    while (this.active && lane.active < perAccount && lane.queue.length > 0) {
      const job = lane.queue.shift()!;
      lane.active++;
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        lane.active--;
        this.slotFreed(accountId, lane, perAccount);
      };
      const run = this.runJob(job, release).finally(async () => {
        if (this.reclaimed.delete(job.seq)) await this.settleReclaimed(job.seq);
        this.held.delete(job.seq);
        this.running.delete(run);
        release();
      });
      this.running.add(run);
    }
  }

  private slotFreed(accountId: string, lane: Lane, perAccount: number): void {
    if (lane.queue.length > 0) {
      this.pump(accountId, lane, perAccount);
      return;
    }
    if (lane.active === 0 && this.lanes.get(accountId) === lane) this.lanes.delete(accountId);
    // Only a lane with nothing queued can take more: claim for it now rather than at the next poll.
    this.wakeUp();
  }

  private async runJob(job: OutboxJob, release: () => void = () => undefined): Promise<void> {
    try {
      await this.options.handle(job, release);
    } catch (error) {
      const err = coerceError(error);
      this.options.log.error({ err, kind: this.options.kind, accountId: job.account_id, ref: job.ref }, 'outbox job failed');
      const retryAt = this.clock() + (this.options.crashDelayMs ?? 30_000);
      await this.options.store.write((tx) => rescheduleJob(tx, job.seq, retryAt, storableText(err.message, STORED_TEXT_LIMITS.error), false)).catch(() => undefined);
    }
  }

  /** A job claimed again while it ran: run it now if it is due, else hand the claim back. */
  private async settleReclaimed(seq: number): Promise<void> {
    try {
      const row = await this.options.store.db.selectFrom('outbox').selectAll().where('seq', '=', seq).where('locked_by', '=', this.owner).executeTakeFirst();
      if (!row) return;
      if (row.run_at <= this.clock()) {
        await this.runJob(row);
        return;
      }
      await this.options.store.write((tx) =>
        tx.updateTable('outbox').set({ locked_until: null, locked_by: null }).where('seq', '=', seq).where('locked_by', '=', this.owner).execute(),
      );
    } catch (error) {
      this.options.log.error({ err: coerceError(error), kind: this.options.kind }, 'could not settle a reclaimed outbox job');
    }
  }

  private get lockMs(): number {
    return this.options.lockMs ?? 120_000;
  }

  /** Keeps the claims of jobs in hand fresh, so that only a dead process's jobs are taken over. */
  private async renewLocks(): Promise<void> {
    const now = Date.now();
    if (this.held.size === 0 || now - this.lastRenewal < this.lockMs / 4) return;
    this.lastRenewal = now;
    const seqs = [...this.held.keys()];
    const until = this.clock() + this.lockMs;
    await this.options.store.write((tx) =>
      tx.updateTable('outbox').set({ locked_until: until }).where('seq', 'in', seqs).where('locked_by', '=', this.owner).execute(),
    );
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}
