import type { Store, Tx } from '../../store/store.js';
import type { MessageRow } from '../messages.js';

/**
 * A send lane takes messages in hand (`in_flight_at`) in their own commit before it gives them
 * to WhatsApp; a cancel only ends a message that is not in hand. Both are conditional updates of
 * the same row, so whichever commits first wins and a message is never both cancelled and sent.
 * Answers the ids taken (a message cancelled meanwhile is not among them).
 */
export async function takeInHand(store: Store, ids: string[], now: number): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await store.write((tx) =>
    tx
      .updateTable('messages')
      .set({ in_flight_at: now, status: 'pending' })
      .where('id', 'in', ids)
      .where('status', 'in', ['scheduled', 'pending'])
      .returning('id')
      .execute(),
  );
  return new Set(rows.map((r) => r.id));
}

/** Back in the queue (a retry later, or a lane stopping before it tried): cancellable again. */
export async function releaseFromHand(tx: Tx, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await tx.updateTable('messages').set({ in_flight_at: null }).where('id', 'in', ids).where('in_flight_at', 'is not', null).execute();
}

/** Due but waiting (for a connection, or a retry): a scheduled message now shows `pending`, and may be cancelled again. */
export async function backInQueue(tx: Tx, id: string): Promise<void> {
  await tx.updateTable('messages').set({ in_flight_at: null, status: 'pending' }).where('id', '=', id).where('status', 'in', ['scheduled', 'pending']).execute();
}

export function expiredError(row: Pick<MessageRow, 'expires_at'>): string {
  const at = row.expires_at === null ? '' : ` (${new Date(Number(row.expires_at)).toISOString()})`;
  return `The message expired${at} before it could be sent, so it was not sent late.`;
}
