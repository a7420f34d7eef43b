import type { Store, Tx } from '../../store/store.js';
import type { EventRecorder } from '../events.js';
import { LIFTED } from './restrictions.js';

/**
 * Ends the reach-out timelocks whose end (as WhatsApp gave it) has passed: WhatsApp sends no
 * notification when one runs out. Each is cleared and raises `account.restriction_lifted` in one
 * commit; the clearing update only matches a row still active, under the account's lock, so two
 * processes sweeping at once (PostgreSQL) raise it once. Answers how many were lifted.
 */
export async function liftLapsedTimelocks(store: Store, events: EventRecorder, now: number): Promise<number> {
  const due = await store.db
    .selectFrom('account_restrictions')
    .select('account_id')
    .where('timelock_active', '=', 1)
    .where('timelock_until', 'is not', null)
    .where('timelock_until', '<=', now)
    .execute();
  let lifted = 0;
  for (const { account_id: accountId } of due) {
    const done = await store.write(async (tx) => {
      if (store.locksRows) await tx.selectFrom('accounts').select('id').where('id', '=', accountId).forUpdate().execute();
      const cleared = await tx
        .updateTable('account_restrictions')
        .set({ timelock_active: 0, timelock_until: null, updated_at: now })
        .where('account_id', '=', accountId)
        .where('timelock_active', '=', 1)
        .where('timelock_until', '<=', now)
        .executeTakeFirst();
      if (Number(cleared.numUpdatedRows) === 0) return false;
      await events.record(tx, accountId, LIFTED, now);
      return true;
    });
    if (done) lifted++;
  }
  return lifted;
}

/** When the next timelock runs out, or null when none is active with a known end. */
export async function nextTimelockEnd(db: Tx): Promise<number | null> {
  const row = await db
    .selectFrom('account_restrictions')
    .select((eb) => eb.fn.min<number>('timelock_until').as('next'))
    .where('timelock_active', '=', 1)
    .where('timelock_until', 'is not', null)
    .executeTakeFirst();
  return row?.next == null ? null : Number(row.next);
}
