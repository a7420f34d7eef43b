import { sql } from 'kysely';
import type { Dialect } from '../store/dialect.js';
import type { Store, Tx } from '../store/store.js';

export interface LoggedEvent {
  /** The pull queue's cursor: this account's event number, 1, 2, 3 … without gaps. */
  cursor: number;
  /** The webhook-id a webhook delivery of this event carries. */
  id: string;
  event: string;
  /** The event exactly as a webhook would POST it (the signed body). */
  body: string;
  createdAt: number;
}

/**
 * Appends an account's events to its log, inside the transaction of the change that caused them.
 * The numbers come from the account's head row, updated in the same transaction: on PostgreSQL its
 * row lock makes a second writer wait for the first one's commit, so numbers become visible in
 * order and a reader that has seen N can never later find an N-1 it skipped (SQLite has one
 * writer at a time anyway). Callers append last, just before their commit: the lock is held from
 * here to the commit, and one account's appends queue on it.
 */
export async function appendEvents(tx: Tx, dialect: Dialect, accountId: string, entries: Array<{ id: string; event: string; body: string; mediaId?: string | null }>, now: number): Promise<void> {
  if (entries.length === 0) return;
  if (dialect === 'postgres') {
    // One statement (one round trip while holding the lock, not two): the head moves and the
    // events are numbered from its new value.
    const rows = sql.join(entries.map((e, i) => sql`(${i + 1}::integer, ${e.id}::text, ${e.event}::text, ${e.body}::text, ${e.mediaId ?? null}::text)`));
    await sql`
      WITH head AS (
        INSERT INTO event_log_heads (account_id, last_seq) VALUES (${accountId}, ${entries.length})
        ON CONFLICT (account_id) DO UPDATE SET last_seq = event_log_heads.last_seq + ${entries.length}
        RETURNING last_seq
      )
      INSERT INTO event_log (account_id, seq, event_id, event, body, created_at, media_id)
      SELECT ${accountId}, head.last_seq - ${entries.length} + e.n, e.event_id, e.event, e.body, ${now}::bigint, e.media_id
      FROM head, (VALUES ${rows}) AS e (n, event_id, event, body, media_id)`.execute(tx);
    return;
  }
  const head = await tx
    .insertInto('event_log_heads')
    .values({ account_id: accountId, last_seq: entries.length })
    .onConflict((oc) => oc.column('account_id').doUpdateSet({ last_seq: sql<number>`event_log_heads.last_seq + ${entries.length}` }))
    .returning('last_seq')
    .executeTakeFirstOrThrow();
  const first = Number(head.last_seq) - entries.length + 1;
  await tx
    .insertInto('event_log')
    .values(entries.map((e, i) => ({ account_id: accountId, seq: first + i, event_id: e.id, event: e.event, body: e.body, created_at: now, media_id: e.mediaId ?? null })))
    .execute();
}

/** Up to `limit` events after `after`, oldest first. */
export async function readEvents(store: Store, accountId: string, after: number, limit: number): Promise<LoggedEvent[]> {
  const rows = await store.db
    .selectFrom('event_log')
    .select(['seq', 'event_id', 'event', 'body', 'created_at'])
    .where('account_id', '=', accountId)
    .where('seq', '>', after)
    .orderBy('seq')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ cursor: Number(r.seq), id: r.event_id, event: r.event, body: r.body, createdAt: Number(r.created_at) }));
}

/** How far the account acknowledged (0 before any acknowledgement). */
export async function ackedCursor(store: Store, accountId: string): Promise<number> {
  const row = await store.db.selectFrom('event_log_heads').select('acked_seq').where('account_id', '=', accountId).executeTakeFirst();
  return row ? Number(row.acked_seq) : 0;
}

/**
 * Acknowledges everything up to `cursor`. It only moves forward: two consumers acknowledging in
 * any order leave the larger cursor, never a smaller one. Returns the acknowledged cursor.
 */
export async function ackEvents(store: Store, accountId: string, cursor: number): Promise<number> {
  return store.write(async (tx) => {
    const head = await tx.selectFrom('event_log_heads').select(['last_seq', 'acked_seq']).where('account_id', '=', accountId).executeTakeFirst();
    if (!head) return 0;
    const acked = Math.max(Number(head.acked_seq), Math.min(cursor, Number(head.last_seq)));
    await tx.updateTable('event_log_heads').set({ acked_seq: sql<number>`case when acked_seq < ${acked} then ${acked} else acked_seq end` }).where('account_id', '=', accountId).execute();
    return acked;
  });
}

/** Drops events older than the retention (EVENT_RETENTION_DAYS); the heads keep their numbers. */
export async function pruneEventLog(tx: Tx, now: number, retentionDays: number): Promise<void> {
  await tx.deleteFrom('event_log').where('created_at', '<', now - retentionDays * 24 * 60 * 60 * 1000).execute();
}
