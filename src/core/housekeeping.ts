import type { Store } from '../store/store.js';
import { pruneEventLog } from './event-log.js';
import { pruneUsage } from './quota.js';

const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

/** Drops what can no longer matter: usage outside the rolling window, idempotency keys past 24 h. */
export async function pruneExpired(store: Store, now: number, eventRetentionDays?: number): Promise<void> {
  await store.write(async (tx) => {
    await pruneUsage(tx, now);
    if (eventRetentionDays !== undefined) await pruneEventLog(tx, now, eventRetentionDays);
    await tx.deleteFrom('idempotency_keys').where('created_at', '<=', now - IDEMPOTENCY_WINDOW_MS).execute();
    await tx.deleteFrom('bulk_requests').where('created_at', '<=', now - IDEMPOTENCY_WINDOW_MS).execute();
  });
}
