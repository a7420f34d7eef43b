import { queryTemplate } from '../store/query-template.js';
import type { Tx } from '../store/store.js';

/**
 * Rolling 24-hour usage kept in one-minute buckets per account. A check reads at most 1,440 rows
 * whatever the size of the history (and at most `limit` non-empty ones on a limited plan).
 */
export const BUCKET_MS = 60_000;
export const WINDOW_BUCKETS = 24 * 60;

export function bucketOf(time: number): number {
  return Math.floor(time / BUCKET_MS);
}

export interface Usage {
  count: number;
  /** Seconds until the oldest counted message leaves the window (0 when nothing is counted). */
  resetSeconds: number;
}

export async function readUsage(db: Tx, accountId: string, now: number): Promise<Usage> {
  const row = await db
    .selectFrom('usage_buckets')
    .select((eb) => [eb.fn.sum<number>('count').as('total'), eb.fn.min<number>('bucket').as('oldest')])
    .where('account_id', '=', accountId)
    .where('bucket', '>', bucketOf(now) - WINDOW_BUCKETS)
    .where('count', '>', 0)
    .executeTakeFirst();
  const count = Number(row?.total ?? 0);
  const oldest = row?.oldest === null || row?.oldest === undefined ? null : Number(row.oldest);
  const resetSeconds = oldest === null ? 0 : Math.max(1, Math.ceil(((oldest + WINDOW_BUCKETS) * BUCKET_MS - now) / 1000));
  return { count, resetSeconds };
}

const incrementBucket = queryTemplate((db, a: { accountId: string; bucket: number; one: number }) =>
  db
    .insertInto('usage_buckets')
    .values({ account_id: a.accountId, bucket: a.bucket, count: a.one })
    .onConflict((oc) => oc.columns(['account_id', 'bucket']).doUpdateSet((eb) => ({ count: eb('usage_buckets.count', '+', eb.ref('excluded.count')) }))),
);

export async function countUsage(tx: Tx, accountId: string, createdAt: number, delta: 1 | -1): Promise<void> {
  const bucket = bucketOf(createdAt);
  if (delta === 1) {
    await incrementBucket(tx, { accountId, bucket, one: 1 });
  } else {
    await tx
      .updateTable('usage_buckets')
      .set((eb) => ({ count: eb('count', '-', 1) }))
      .where('account_id', '=', accountId)
      .where('bucket', '=', bucket)
      .where('count', '>', 0)
      .execute();
  }
}

/** Buckets that left the window no longer matter. */
export async function pruneUsage(tx: Tx, now: number): Promise<void> {
  await tx.deleteFrom('usage_buckets').where('bucket', '<=', bucketOf(now) - WINDOW_BUCKETS - 1).execute();
}
