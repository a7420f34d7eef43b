import { sql, type Selectable } from 'kysely';
import type { WebhookAttemptsTable, WebhookDeliveriesTable } from '../store/schema.js';
import type { Store, Tx } from '../store/store.js';
import { AppError } from './errors.js';
import type { GatewayEvent } from './events.js';
import { newId } from './ids.js';
import { enqueue } from './outbox.js';
import { queryTemplate } from '../store/query-template.js';
import { jsonRows } from '../store/json-rows.js';
import { decodeCursor, pageOf } from './pagination.js';
import { STORED_TEXT_LIMITS, storableText } from './storable-text.js';

export type DeliveryStatus = 'pending' | 'delivered' | 'dead';
export type DeliveryRow = Selectable<WebhookDeliveriesTable>;
export type AttemptRow = Selectable<WebhookAttemptsTable>;

/** SPEC §5: a delivery as Settings list it. */
export interface DeliveryView {
  id: string;
  eventId: string;
  event: string;
  status: DeliveryStatus;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  nextAttemptAt: string | null;
  createdAt: string;
  deliveredAt: string | null;
  test: boolean;
}

export interface AttemptView {
  at: string;
  url: string;
  status: number | null;
  error: string | null;
  response: string | null;
  durationMs: number;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function toDeliveryView(row: DeliveryRow): DeliveryView {
  return {
    id: row.id,
    eventId: row.event_id,
    event: row.event,
    status: row.status as DeliveryStatus,
    attempts: row.attempts,
    lastStatus: row.last_status,
    lastError: row.last_error,
    nextAttemptAt: row.status === 'pending' ? iso(row.next_attempt_at) : null,
    createdAt: iso(row.created_at)!,
    deliveredAt: iso(row.delivered_at),
    test: row.test === 1,
  };
}

/**
 * The exact body a receiver gets, fixed when the event is recorded: every attempt and every
 * redelivery of the event sends these bytes under the same `webhook-id`.
 */
export function webhookBody(event: GatewayEvent, now: number): string {
  const { event: name, ...rest } = event;
  return JSON.stringify({ event: name, timestamp: new Date(now).toISOString(), ...rest });
}

const insertDelivery = queryTemplate(
  (db, a: { id: string; eventId: string; accountId: string; event: string; payload: string; test: number; redelivery: number; nextAttemptAt: number; now: number; mediaId: string | null }) =>
    db
      .insertInto('webhook_deliveries')
      .values({
        id: a.id,
        event_id: a.eventId,
        account_id: a.accountId,
        event: a.event,
        payload: a.payload,
        test: a.test,
        redelivery: a.redelivery,
        status: 'pending',
        attempts: 0,
        last_status: null,
        last_error: null,
        next_attempt_at: a.nextAttemptAt,
        created_at: a.now,
        delivered_at: null,
        finished_at: null,
        media_id: a.mediaId,
      })
      .returning('seq'),
);

/** Writes a delivery and its outbox job with the caller's transaction (the outbox pattern). */
export async function queueDelivery(
  tx: Tx,
  input: { accountId: string; eventId: string; event: string; payload: string; test: boolean; now: number; runAt?: number; withJob?: boolean; redelivery?: boolean; mediaId?: string | null },
): Promise<DeliveryRow> {
  const runAt = input.runAt ?? input.now;
  const row: Omit<DeliveryRow, 'seq'> = {
    id: newId('whd'),
    event_id: input.eventId,
    account_id: input.accountId,
    event: input.event,
    payload: input.payload,
    test: input.test ? 1 : 0,
    status: 'pending',
    attempts: 0,
    last_status: null,
    last_error: null,
    next_attempt_at: runAt,
    created_at: input.now,
    delivered_at: null,
    finished_at: null,
    redelivery: input.redelivery ? 1 : 0,
    media_id: input.mediaId ?? null,
  };
  const inserted = await insertDelivery(tx, {
    id: row.id,
    eventId: row.event_id,
    accountId: row.account_id,
    event: row.event,
    payload: row.payload,
    test: row.test,
    redelivery: row.redelivery,
    nextAttemptAt: runAt,
    now: input.now,
    mediaId: row.media_id,
  });
  if (input.withJob !== false) await enqueue(tx, { kind: 'webhook', accountId: input.accountId, ref: row.id, runAt, now: input.now });
  return { ...row, seq: Number(inserted.rows[0]!.seq) };
}

export async function listDeliveries(store: Store, accountId: string, options: { limit: number; cursor?: string; status?: DeliveryStatus }) {
  let query = store.db.selectFrom('webhook_deliveries').selectAll().where('account_id', '=', accountId);
  if (options.status) query = query.where('status', '=', options.status);
  if (options.cursor) query = query.where('seq', '<', decodeCursor(options.cursor));
  const { page, nextCursor } = pageOf(await query.orderBy('seq', 'desc').limit(options.limit + 1).execute(), options.limit);
  return { deliveries: page.map(toDeliveryView), nextCursor };
}

export async function findDelivery(db: Tx, accountId: string, id: string): Promise<DeliveryRow> {
  const row = await db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).where('account_id', '=', accountId).executeTakeFirst();
  // Another account's delivery is a 404 like an unknown one: ids are not probed.
  if (!row) throw new AppError('not_found', `No webhook delivery with id ${id}.`);
  return row;
}

export async function getDelivery(store: Store, accountId: string, id: string) {
  const row = await findDelivery(store.db, accountId, id);
  const attempts = await store.db.selectFrom('webhook_attempts').selectAll().where('delivery_id', '=', id).orderBy('seq').execute();
  return {
    ...toDeliveryView(row),
    payload: JSON.parse(row.payload) as unknown,
    attemptLog: attempts.map(
      (a): AttemptView => ({ at: iso(a.at)!, url: a.url, status: a.status, error: a.error, response: a.response, durationMs: a.duration_ms }),
    ),
  };
}

const MINUTE = 60 * 1000;
const HOUR = 60 * MINUTE;

/**
 * Deliveries of one kind the account made since `since`, and when the oldest of them leaves the
 * window. Called after the account's row is locked, so concurrent requests count each other.
 */
async function recentDeliveries(tx: Tx, accountId: string, kind: 'test' | 'redelivery', since: number): Promise<{ count: number; oldest: number | null }> {
  const row = await tx
    .selectFrom('webhook_deliveries')
    .select((eb) => [eb.fn.countAll<number>().as('count'), eb.fn.min<number>('created_at').as('oldest')])
    .where('account_id', '=', accountId)
    .where(kind, '=', 1)
    .where('created_at', '>', since)
    .executeTakeFirstOrThrow();
  return { count: Number(row.count), oldest: row.oldest === null ? null : Number(row.oldest) };
}

async function requireRoom(tx: Tx, accountId: string, kind: 'test' | 'redelivery', max: number, windowMs: number, now: number, what: string): Promise<void> {
  const { count, oldest } = await recentDeliveries(tx, accountId, kind, now - windowMs);
  if (count < max) return;
  const retryAfterSeconds = Math.max(1, Math.ceil(((oldest ?? now) + windowMs - now) / 1000));
  throw new AppError('too_many_requests', `Too many ${what}: at most ${max} per ${windowMs === HOUR ? 'hour' : 'minute'} for an account. Try again in ${retryAfterSeconds} seconds.`, {
    retryAfterSeconds,
  });
}

/** The account's row locked for the rest of the transaction (PostgreSQL; SQLite has one writer). */
async function lockAccount(store: Store, tx: Tx, accountId: string): Promise<void> {
  if (store.locksRows) await tx.selectFrom('accounts').select('id').where('id', '=', accountId).forUpdate().execute();
}

/**
 * Queues the event of a delivery again, as a new delivery with the same `webhook-id` and body.
 * An event already waiting to be delivered is not queued twice: its pending delivery is the
 * answer (`queued: false`), so repeating the call is harmless. At most `perHour` redeliveries
 * an hour per account (429 beyond, with Retry-After).
 */
export async function redeliver(store: Store, accountId: string, id: string, now: number, perHour: number): Promise<{ delivery: DeliveryView; queued: boolean }> {
  return store.write(async (tx) => {
    await lockAccount(store, tx, accountId);
    const original = await findDelivery(tx, accountId, id);
    const waiting = await tx
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('event_id', '=', original.event_id)
      .where('status', '=', 'pending')
      .orderBy('seq', 'desc')
      .executeTakeFirst();
    if (waiting) return { delivery: toDeliveryView(waiting), queued: false };
    await requireRoom(tx, accountId, 'redelivery', perHour, HOUR, now, 'redeliveries');
    const row = await queueDelivery(tx, {
      accountId,
      eventId: original.event_id,
      event: original.event,
      payload: original.payload,
      test: original.test === 1,
      redelivery: true,
      mediaId: original.media_id,
      now,
    });
    return { delivery: toDeliveryView(row), queued: true };
  });
}

/** Writes a "Test incoming" delivery (sent by the caller, not queued), at most `perMinute` a minute per account. */
export async function recordTestDelivery(
  store: Store,
  input: { accountId: string; eventId: string; event: string; payload: string; now: number },
  perMinute: number,
): Promise<DeliveryRow> {
  return store.write(async (tx) => {
    await lockAccount(store, tx, input.accountId);
    await requireRoom(tx, input.accountId, 'test', perMinute, MINUTE, input.now, 'test webhooks');
    return queueDelivery(tx, { ...input, test: true, withJob: false });
  });
}

export interface AttemptRecord {
  deliveryId: string;
  attempt: { at: number; url: string; status: number | null; error: string | null; response: string | null; durationMs: number };
  next: { status: DeliveryStatus; nextAttemptAt: number | null };
}

/** The outcome of one attempt, with the delivery's new state, in the caller's transaction. */
export async function recordAttempt(tx: Tx, deliveryId: string, attempt: AttemptRecord['attempt'], next: AttemptRecord['next']): Promise<void> {
  await recordAttempts(tx, [{ deliveryId, attempt, next }]);
}

/** A receiver's answer and error text are written only in storable form (any byte may come back). */
function storableAttempt(attempt: AttemptRecord['attempt']): AttemptRecord['attempt'] {
  return {
    ...attempt,
    error: storableText(attempt.error, STORED_TEXT_LIMITS.error),
    response: storableText(attempt.response, STORED_TEXT_LIMITS.response),
  };
}

const ATTEMPT_COLUMNS = {
  delivery_id: 'text',
  at: 'bigint',
  url: 'text',
  status: 'integer',
  error: 'text',
  response: 'text',
  duration_ms: 'integer',
  next_status: 'text',
  next_attempt_at: 'bigint',
  delivered_at: 'bigint',
  finished_at: 'bigint',
} as const;

/**
 * Several attempts' outcomes at once: the attempt log and each delivery's new state, in two
 * statements whatever their number (the rows travel as one JSON parameter, see jsonRows).
 */
export async function recordAttempts(tx: Tx, unsafeRecords: AttemptRecord[]): Promise<void> {
  if (unsafeRecords.length === 0) return;
  const rows = unsafeRecords.map(({ deliveryId, attempt: unsafe, next }) => {
    const attempt = storableAttempt(unsafe);
    return {
      delivery_id: deliveryId,
      at: attempt.at,
      url: attempt.url,
      status: attempt.status,
      error: attempt.error,
      response: attempt.response,
      duration_ms: attempt.durationMs,
      next_status: next.status,
      next_attempt_at: next.nextAttemptAt,
      delivered_at: next.status === 'delivered' ? attempt.at : null,
      finished_at: next.status === 'pending' ? null : attempt.at,
    };
  });
  const x = jsonRows(tx, ATTEMPT_COLUMNS, rows);
  // In the given order, so the log's seq follows the attempts.
  await sql`insert into webhook_attempts (delivery_id, at, url, status, error, response, duration_ms)
    select delivery_id, at, url, status, error, response, duration_ms from ${x}`.execute(tx);
  await sql`update webhook_deliveries set status = x.next_status, attempts = webhook_deliveries.attempts + 1, last_status = x.status,
    last_error = x.error, next_attempt_at = x.next_attempt_at, delivered_at = x.delivered_at, finished_at = x.finished_at
    from ${x} where webhook_deliveries.id = x.delivery_id`.execute(tx);
}

/** Gives a delivery up without an attempt (no URL any more, plan changed, URL retired by 410). */
export async function abandonDelivery(tx: Tx, deliveryId: string, reason: string, now: number): Promise<void> {
  await tx
    .updateTable('webhook_deliveries')
    .set({ status: 'dead', last_error: reason, next_attempt_at: null, finished_at: now })
    .where('id', '=', deliveryId)
    .execute();
}
