import { queryTemplate } from '../store/query-template.js';
import type { Tx } from '../store/store.js';

/**
 * Rolling 24-hour usage, counted per account in one-minute buckets and again per hour. The window
 * (the last 1,440 minutes) is its whole hours, read from ≤ 24 hourly rows, plus the tail of the
 * hour it starts in, read from ≤ 59 minute rows: a check costs the same with ten messages in the
 * history or ten million. Each count is split over SHARDS rows (chosen by message id), so that on
 * PostgreSQL concurrent sends of an account without a limit (hence without the account lock) do
 * not queue behind one counter row until each other's commits.
 */
export const SHARDS = 8;

export function shardOf(messageId: string): number {
  return parseInt(messageId.slice(-2), 16) % SHARDS || 0;
}

export const BUCKET_MS = 60_000;
export const WINDOW_BUCKETS = 24 * 60;

export function bucketOf(time: number): number {
  return Math.floor(time / BUCKET_MS);
}

export interface Usage {
  count: number;
  /** Seconds until the oldest counted message leaves the window (0 when nothing is counted, or not asked for). */
  resetSeconds: number;
}

const sumHours = queryTemplate((db, a: { accountId: string; afterHour: number }) =>
  db
    .selectFrom('usage_hours')
    .select((eb) => eb.fn.sum<number>('count').as('total'))
    .where('account_id', '=', a.accountId)
    .where('hour', '>', a.afterHour),
);

const sumMinutes = queryTemplate((db, a: { accountId: string; after: number; before: number }) =>
  db
    .selectFrom('usage_minutes')
    .select((eb) => eb.fn.sum<number>('count').as('total'))
    .where('account_id', '=', a.accountId)
    .where('minute', '>', a.after)
    .where('minute', '<', a.before),
);

/** The first minute in (after, before) whose shards add up to more than nothing. */
const firstMinute = queryTemplate((db, a: { accountId: string; after: number; before: number; zero: number }) =>
  db
    .selectFrom('usage_minutes')
    .select('minute')
    .where('account_id', '=', a.accountId)
    .where('minute', '>', a.after)
    .where('minute', '<', a.before)
    .groupBy('minute')
    .having((eb) => eb.fn.sum('count'), '>', a.zero)
    .orderBy('minute')
    .limit(1),
);

const firstHour = queryTemplate((db, a: { accountId: string; after: number; zero: number }) =>
  db
    .selectFrom('usage_hours')
    .select('hour')
    .where('account_id', '=', a.accountId)
    .where('hour', '>', a.after)
    .groupBy('hour')
    .having((eb) => eb.fn.sum('count'), '>', a.zero)
    .orderBy('hour')
    .limit(1),
);

/** The oldest counted minute: in the window's partial first hour, else in the first whole hour with a count. */
async function oldestCountedMinute(db: Tx, accountId: string, firstOutside: number, startHour: number): Promise<number | null> {
  const inPartialHour = (await firstMinute(db, { accountId, after: firstOutside, before: (startHour + 1) * 60, zero: 0 })).rows[0];
  if (inPartialHour) return Number(inPartialHour.minute);
  const hour = (await firstHour(db, { accountId, after: startHour, zero: 0 })).rows[0];
  if (!hour) return null;
  const h = Number(hour.hour);
  const inHour = (await firstMinute(db, { accountId, after: h * 60 - 1, before: (h + 1) * 60, zero: 0 })).rows[0];
  return inHour ? Number(inHour.minute) : h * 60;
}

export async function readUsage(db: Tx, accountId: string, now: number, options: { withReset: boolean } = { withReset: true }): Promise<Usage> {
  const firstOutside = bucketOf(now) - WINDOW_BUCKETS; // the newest minute no longer counted
  const startHour = Math.floor((firstOutside + 1) / 60); // the hour the window starts in
  const [hours, minutes] = await Promise.all([
    sumHours(db, { accountId, afterHour: startHour }),
    sumMinutes(db, { accountId, after: firstOutside, before: (startHour + 1) * 60 }),
  ]);
  const count = Number(hours.rows[0]?.total ?? 0) + Number(minutes.rows[0]?.total ?? 0);
  if (count === 0 || !options.withReset) return { count, resetSeconds: 0 };
  const oldest = await oldestCountedMinute(db, accountId, firstOutside, startHour);
  const resetSeconds = oldest === null ? 1 : Math.max(1, Math.ceil(((oldest + WINDOW_BUCKETS) * BUCKET_MS - now) / 1000));
  return { count, resetSeconds };
}

const addToMinute = queryTemplate((db, a: { accountId: string; minute: number; shard: number; delta: number }) =>
  db
    .insertInto('usage_minutes')
    .values({ account_id: a.accountId, minute: a.minute, shard: a.shard, count: a.delta })
    .onConflict((oc) => oc.columns(['account_id', 'minute', 'shard']).doUpdateSet((eb) => ({ count: eb('usage_minutes.count', '+', eb.ref('excluded.count')) }))),
);

const addToHour = queryTemplate((db, a: { accountId: string; hour: number; shard: number; delta: number }) =>
  db
    .insertInto('usage_hours')
    .values({ account_id: a.accountId, hour: a.hour, shard: a.shard, count: a.delta })
    .onConflict((oc) => oc.columns(['account_id', 'hour', 'shard']).doUpdateSet((eb) => ({ count: eb('usage_hours.count', '+', eb.ref('excluded.count')) }))),
);

/** Counts an accepted message (+1), or stops counting one that failed (-1), in the minute and hour it was accepted. */
export async function countUsage(tx: Tx, message: { accountId: string; messageId: string; createdAt: number }, delta: 1 | -1): Promise<void> {
  const minute = bucketOf(message.createdAt);
  const shard = shardOf(message.messageId);
  await addToMinute(tx, { accountId: message.accountId, minute, shard, delta });
  await addToHour(tx, { accountId: message.accountId, hour: Math.floor(minute / 60), shard, delta });
}

/** Buckets that left the window no longer matter. */
export async function pruneUsage(tx: Tx, now: number): Promise<void> {
  const firstOutside = bucketOf(now) - WINDOW_BUCKETS;
  await tx.deleteFrom('usage_minutes').where('minute', '<=', firstOutside - 1).execute();
  await tx.deleteFrom('usage_hours').where('hour', '<', Math.floor(firstOutside / 60) - 1).execute();
}
