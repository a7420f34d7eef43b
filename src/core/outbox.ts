import type { Selectable } from 'kysely';
import type { OutboxTable } from '../store/schema.js';
import { queryTemplate } from '../store/query-template.js';
import type { Store, Tx } from '../store/store.js';

/**
 * One durable outbox for everything that must happen after a commit: messages to send, webhook
 * events, e-mails. A job is written in the same transaction as the change that caused it, claimed
 * with a time-limited lock (row locks and SKIP LOCKED on PostgreSQL, so several processes can share
 * the work), and deleted in the same transaction that records its outcome.
 */
export type OutboxKind = 'message' | 'webhook' | 'email';
export type OutboxJob = Selectable<OutboxTable>;

const insertJob = queryTemplate((db, a: { kind: string; accountId: string; ref: string; runAt: number; now: number; priority: number }) =>
  db.insertInto('outbox').values({
    kind: a.kind,
    account_id: a.accountId,
    ref: a.ref,
    attempts: 0,
    run_at: a.runAt,
    locked_until: null,
    locked_by: null,
    last_error: null,
    created_at: a.now,
    priority: a.priority,
  }),
);

export async function enqueue(tx: Tx, job: { kind: OutboxKind; accountId: string; ref: string; runAt: number; now: number; priority?: number }): Promise<void> {
  await insertJob(tx, { ...job, priority: job.priority ?? 1 });
}

export interface ClaimOptions {
  kind: OutboxKind;
  owner: string;
  now: number;
  limit: number;
  lockMs: number;
  /** Accounts whose earlier jobs are still being worked on here (keeps per-account order). */
  excludeAccounts?: Iterable<string>;
}

export async function claimJobs(store: Store, options: ClaimOptions): Promise<OutboxJob[]> {
  const exclude = [...(options.excludeAccounts ?? [])];
  return store.write(async (tx) => {
    if (exclude.length > 0 && !(await hasJobsOutside(tx, options.kind, new Set(exclude)))) return [];
    let due = tx
      .selectFrom('outbox')
      .select('seq')
      .where('kind', '=', options.kind)
      .where('run_at', '<=', options.now)
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', options.now)]))
      // Along the (kind, run_at, seq) index, stopping at the limit: no sort of the whole backlog.
      // A message is due when it was accepted, so within an account this is acceptance order.
      .orderBy('run_at')
      .orderBy('seq')
      .limit(options.limit);
    if (exclude.length > 0) due = due.where('account_id', 'not in', exclude);
    if (store.locksRows) due = due.forUpdate().skipLocked();
    return tx
      .updateTable('outbox')
      .set({ locked_until: options.now + options.lockMs, locked_by: options.owner })
      .where('seq', 'in', due)
      .returningAll()
      .execute()
      .then((rows) => rows.sort((a, b) => a.seq - b.seq));
  });
}

/** Accounts passed over at most by hasJobsOutside before it leaves the answer to the claim. */
const ACCOUNTS_PROBED = 64;

/**
 * Whether an account outside `exclude` has a job of this kind. The claim's scan along
 * (kind, run_at, seq) reads every due job of the excluded accounts before it finds none, and a
 * claim that excludes the busy ones follows every full claim: behind one account's backlog of
 * 20,000 webhook events that was a tenth of the CPU, and on SQLite the scan holds the event loop.
 * This walks the distinct accounts along outbox_account_priority instead, one index seek each.
 */
async function hasJobsOutside(tx: Tx, kind: OutboxKind, exclude: Set<string>): Promise<boolean> {
  let after: string | undefined;
  for (let probed = 0; probed < exclude.size + ACCOUNTS_PROBED; probed++) {
    let next = tx.selectFrom('outbox').select('account_id').orderBy('account_id').limit(1);
    if (after !== undefined) next = next.where('account_id', '>', after);
    const row = await next.executeTakeFirst();
    if (!row) return false;
    after = row.account_id;
    if (exclude.has(after)) continue;
    const job = await tx.selectFrom('outbox').select('seq').where('account_id', '=', after).where('kind', '=', kind).limit(1).executeTakeFirst();
    if (job) return true;
  }
  return true;
}

/**
 * A busy lane's look for messages of its account more urgent than the one it is about to send
 * (accepted after its claim): due, unclaimed, of a smaller priority number, in their order.
 */
export async function claimUrgentJobs(
  store: Store,
  options: { accountId: string; belowPriority: number; owner: string; now: number; lockMs: number; limit: number },
): Promise<OutboxJob[]> {
  return store.write(async (tx) => {
    let due = tx
      .selectFrom('outbox')
      .select('seq')
      .where('account_id', '=', options.accountId)
      .where('kind', '=', 'message')
      .where('priority', '<', options.belowPriority)
      .where('run_at', '<=', options.now)
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', options.now)]))
      .orderBy('priority')
      .orderBy('seq')
      .limit(options.limit);
    if (store.locksRows) due = due.forUpdate().skipLocked();
    return tx.updateTable('outbox').set({ locked_until: options.now + options.lockMs, locked_by: options.owner }).where('seq', 'in', due).returningAll().execute();
  });
}

/** Extends a live claim; a claim that was lost (expired and taken by another worker) is left alone. */
export async function renewLocks(store: Store, seqs: number[], owner: string, until: number): Promise<void> {
  await store.write((tx) => tx.updateTable('outbox').set({ locked_until: until }).where('seq', 'in', seqs).where('locked_by', '=', owner).execute());
}

/** Gives unfinished jobs back at once, for any worker to claim (instead of waiting for the lease to run out). */
export async function releaseClaims(store: Store, seqs: number[], owner: string): Promise<void> {
  await store.write((tx) => tx.updateTable('outbox').set({ locked_until: null, locked_by: null }).where('seq', 'in', seqs).where('locked_by', '=', owner).execute());
}

export async function completeJob(tx: Tx, seq: number): Promise<void> {
  await tx.deleteFrom('outbox').where('seq', '=', seq).execute();
}

export async function completeJobs(tx: Tx, seqs: number[]): Promise<void> {
  if (seqs.length > 0) await tx.deleteFrom('outbox').where('seq', 'in', seqs).execute();
}

export async function rescheduleJob(tx: Tx, seq: number, runAt: number, error: string | null, countAttempt: boolean): Promise<void> {
  await tx
    .updateTable('outbox')
    .set((eb) => ({
      run_at: runAt,
      locked_until: null,
      locked_by: null,
      last_error: error,
      attempts: countAttempt ? eb('attempts', '+', 1) : eb.ref('attempts'),
    }))
    .where('seq', '=', seq)
    .execute();
}

/** On SQLite only one process runs, so at start every lock is a dead process's and is released. */
export async function releaseAllLocks(store: Store, kind: OutboxKind): Promise<void> {
  await store.write((tx) =>
    tx.updateTable('outbox').set({ locked_until: null, locked_by: null }).where('kind', '=', kind).where('locked_until', 'is not', null).execute(),
  );
}

export async function outboxDepth(store: Store): Promise<Array<{ kind: string; count: number }>> {
  const rows = await store.db
    .selectFrom('outbox')
    .select((eb) => ['kind', eb.fn.countAll<number>().as('count')])
    .groupBy('kind')
    .execute();
  return rows.map((r) => ({ kind: r.kind, count: Number(r.count) }));
}

/** When the next job of this kind becomes due, so an idle worker can sleep until then. */
export async function nextDueAt(store: Store, kind: OutboxKind): Promise<number | null> {
  const row = await store.db
    .selectFrom('outbox')
    .select((eb) => eb.fn.min<number>('run_at').as('next'))
    .where('kind', '=', kind)
    .where('locked_until', 'is', null)
    .executeTakeFirst();
  return row?.next === null || row?.next === undefined ? null : Number(row.next);
}
