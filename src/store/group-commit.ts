import { sql, type Kysely } from 'kysely';
import { collectEffects, runEffects } from './after-commit.js';
import type { Database } from './schema.js';

type WriteFn<T> = (tx: Kysely<Database>) => Promise<T>;

interface Job {
  fn: WriteFn<unknown>;
  /** false: answered once committed, without waiting for the flush (see WriteOptions). */
  durable: boolean;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

type Outcome = { ok: true; value: unknown; effects: Array<() => void> } | { ok: false; error: unknown };

const MAX_BATCH = 2000;

export interface WriteOptions {
  /**
   * false: resolve once the commit has returned, without waiting for its flush. For a write that
   * must be committed before what follows it but need not be on disk by itself: SQLite's WAL keeps
   * commits in order, so the flush of any later durable write puts this one on disk too.
   */
  durable?: boolean;
}

/**
 * Runs every write queued in the same turn of the event loop in one SQLite transaction, so that one
 * fsync (synchronous=FULL) makes a whole batch durable. A write that throws is rolled back alone
 * and rejected; the rest of the batch still commits.
 * Nothing resolves before the commit that holds it has returned and been flushed, and a write's
 * after-commit effects (see afterCommit) run then, once, only if it committed.
 */
export class GroupCommitWriter {
  private queue: Job[] = [];
  private draining = false;

  /** `flush` makes a committed batch durable (see WalFlusher); without it the commit itself must be. */
  constructor(
    private readonly db: Kysely<Database>,
    private readonly flush: () => Promise<void> = async () => undefined,
  ) {}

  write<T>(fn: WriteFn<T>, options: WriteOptions = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, durable: options.durable !== false, resolve: resolve as (v: unknown) => void, reject });
      if (!this.draining) {
        this.draining = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_BATCH);
        await this.runBatch(batch);
        if (this.queue.length > 0) await new Promise((r) => setImmediate(r));
      }
    } finally {
      this.draining = false;
    }
  }

  /**
   * First optimistically, every write straight into the transaction (most batches have no failing
   * write, and savepoints would double the statements). If one throws, that attempt is rolled back
   * whole and the batch runs again with a savepoint around each write. Writes are functions of the
   * database's state, so running one again after a rollback is safe; what a write registered with
   * afterCommit during a run that did not commit is dropped.
   */
  private async runBatch(batch: Job[]): Promise<void> {
    if (batch.length > 1) {
      const outcomes: Outcome[] = [];
      try {
        await this.db.transaction().execute(async (tx) => {
          for (const job of batch) {
            const effects = collectEffects(tx);
            outcomes.push({ ok: true, value: await job.fn(tx), effects });
          }
        });
        this.settleWhenDurable(batch, outcomes);
        return;
      } catch {
        // fall through: isolate each write
      }
    }
    const outcomes: Outcome[] = [];
    try {
      await this.db.transaction().execute(async (tx) => {
        if (batch.length === 1) {
          const effects = collectEffects(tx);
          outcomes.push({ ok: true, value: await batch[0]!.fn(tx), effects });
          return;
        }
        for (const job of batch) {
          await sql`savepoint group_write`.execute(tx);
          const effects = collectEffects(tx);
          try {
            const value = await job.fn(tx);
            await sql`release savepoint group_write`.execute(tx);
            outcomes.push({ ok: true, value, effects });
          } catch (error) {
            await sql`rollback to savepoint group_write`.execute(tx);
            await sql`release savepoint group_write`.execute(tx);
            outcomes.push({ ok: false, error });
          }
        }
      });
    } catch (error) {
      // The commit itself failed (or the single write threw): nothing in this batch is durable.
      for (const job of batch) job.reject(error);
      return;
    }
    this.settleWhenDurable(batch, outcomes);
  }

  /**
   * The next batch may run while this one's flush is on its way; nobody hears of a commit before it
   * is on disk, and if the flush fails nobody is told it is durable.
   */
  private settleWhenDurable(batch: Job[], outcomes: Outcome[]): void {
    const settle = (job: Job, i: number) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) {
        runEffects(outcome.effects);
        job.resolve(outcome.value);
      } else {
        job.reject(outcome.error);
      }
    };
    // Writes that only need to be committed (ordered before what follows) hear of it now.
    batch.forEach((job, i) => {
      if (!job.durable) settle(job, i);
    });
    if (batch.every((job) => !job.durable)) return;
    this.flush().then(
      () =>
        batch.forEach((job, i) => {
          if (job.durable) settle(job, i);
        }),
      (error) =>
        batch.forEach((job) => {
          if (job.durable) job.reject(error);
        }),
    );
  }
}
