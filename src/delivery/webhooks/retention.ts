import type { Store } from '../../store/store.js';

const DAY = 24 * 60 * 60 * 1000;

/**
 * Deletes webhook deliveries (with their attempts) and e-mails that finished — delivered, sent or
 * dead — more than `retentionDays` ago. Pending ones are never pruned.
 */
export async function pruneFinished(store: Store, now: number, retentionDays: number): Promise<{ deliveries: number; emails: number }> {
  const cutoff = now - retentionDays * DAY;
  return store.write(async (tx) => {
    const old = tx.selectFrom('webhook_deliveries').select('id').where('finished_at', '<', cutoff);
    await tx.deleteFrom('webhook_attempts').where('delivery_id', 'in', old).execute();
    const deliveries = await tx.deleteFrom('webhook_deliveries').where('finished_at', '<', cutoff).executeTakeFirst();
    const emails = await tx.deleteFrom('emails').where('finished_at', '<', cutoff).executeTakeFirst();
    return { deliveries: Number(deliveries.numDeletedRows), emails: Number(emails.numDeletedRows) };
  });
}
