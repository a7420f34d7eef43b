import type { Store, Tx } from '../../store/store.js';
import { AppError } from '../errors.js';
import { giveBack, type MessageRow } from '../messages.js';

export const CANCELLED_ERROR = 'Cancelled before it was sent.';

/**
 * Ends a scheduled or pending message that no send lane has in hand (core/queue/in-hand.ts): its
 * quota and recipient slot go back and its outbox job goes. Answers the cancelled row, or null
 * when the message was already cancelled (so a repeated cancel answers the same).
 */
async function cancelIn(tx: Tx, accountId: string, ids: string[]): Promise<MessageRow[]> {
  if (ids.length === 0) return [];
  const rows = await tx
    .updateTable('messages')
    .set({ status: 'cancelled', error: CANCELLED_ERROR, error_code: 'cancelled', sent_at: null })
    .where('account_id', '=', accountId)
    .where('id', 'in', ids)
    .where('status', 'in', ['scheduled', 'pending'])
    .where('in_flight_at', 'is', null)
    .returningAll()
    .execute();
  for (const row of rows) await giveBack(tx, row);
  if (rows.length > 0) {
    await tx.deleteFrom('outbox').where('kind', '=', 'message').where('account_id', '=', accountId).where('ref', 'in', rows.map((r) => r.id)).execute();
  }
  return rows;
}

export type CancelAnswer = 'cancelled' | 'not_waiting';

/**
 * `DELETE /api/v1/messages/:id` of a message that has not gone yet: `cancelled` (also when it
 * already was), or `not_waiting` for a sent or failed one (a delete-for-everyone, then). A message
 * a lane has in hand is on its way to WhatsApp and can no longer be stopped: a 409 says so.
 */
export async function cancelMessage(store: Store, accountId: string, messageId: string): Promise<CancelAnswer> {
  return store.write(async (tx) => {
    const [cancelled] = await cancelIn(tx, accountId, [messageId]);
    if (cancelled) return 'cancelled';
    const row = await tx.selectFrom('messages').select(['status', 'in_flight_at']).where('id', '=', messageId).where('account_id', '=', accountId).executeTakeFirst();
    if (!row) throw new AppError('not_found', `No message with id ${messageId} in this account.`);
    if (row.status === 'cancelled') return 'cancelled';
    if (row.status === 'scheduled' || row.status === 'pending') {
      throw new AppError('conflict', `Message ${messageId} is being sent to WhatsApp right now, so it can no longer be cancelled; look it up in a moment to see how it went.`);
    }
    return 'not_waiting';
  });
}

/** Cancels every message of a bulk send's label that has not gone yet; answers how many. */
export async function cancelLabel(store: Store, accountId: string, label: string): Promise<{ cancelled: number; inFlight: number }> {
  return store.write(async (tx) => {
    const waiting = await tx
      .selectFrom('messages')
      .select(['id', 'in_flight_at'])
      .where('account_id', '=', accountId)
      .where('label', '=', label)
      .where('status', 'in', ['scheduled', 'pending'])
      .execute();
    let cancelled = 0;
    for (let i = 0; i < waiting.length; i += 500) {
      cancelled += (await cancelIn(tx, accountId, waiting.slice(i, i + 500).map((r) => r.id))).length;
    }
    return { cancelled, inFlight: waiting.length - cancelled };
  });
}
