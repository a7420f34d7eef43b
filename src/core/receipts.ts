import type { Store } from '../store/store.js';
import type { ReceiptKind } from './driver-port.js';
import type { EventRecorder } from './events.js';

/**
 * A receipt for a sent message fills `deliveredAt`, `readAt` (and `playedAt` for voice notes) the
 * first time it comes, and raises `message.delivered`, `message.read` or `message.played` then,
 * in the same transaction; a repeated receipt changes nothing and raises nothing. A read (or
 * played) message was delivered too, even if that receipt never came.
 */
export async function recordReceipt(store: Store, events: EventRecorder, accountId: string, waMessageId: string, kind: ReceiptKind, at: number, now: number): Promise<void> {
  await store.write(async (tx) => {
    const column = kind === 'played' ? 'played_at' : kind === 'read' ? 'read_at' : 'delivered_at';
    const changed = await tx
      .updateTable('messages')
      .set({ [column]: at })
      .where('account_id', '=', accountId)
      .where('wa_message_id', '=', waMessageId)
      .where('direction', '=', 'out')
      .where(column, 'is', null)
      .returning(['id', 'recipient', 'kind'])
      .execute();
    if (kind !== 'delivered') {
      const earlier = kind === 'played' ? (['read_at', 'delivered_at'] as const) : (['delivered_at'] as const);
      for (const c of earlier) {
        await tx.updateTable('messages').set({ [c]: at }).where('account_id', '=', accountId).where('wa_message_id', '=', waMessageId).where('direction', '=', 'out').where(c, 'is', null).execute();
      }
    }
    for (const row of changed) {
      await events.record(tx, accountId, { event: `message.${kind}`, message: { id: row.id, recipient: row.recipient, type: row.kind, status: kind, timestamp: new Date(at).toISOString() } }, now);
    }
  });
}
