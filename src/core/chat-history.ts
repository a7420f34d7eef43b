import type { Tx } from '../store/store.js';
import type { MessageStatus } from './messages.js';

/**
 * Whether the account's log holds a message of one of `statuses` in the chat with `number` (sent
 * to it, or for `received`, from it): what "an existing chat" means to the reach-out check and the
 * warm-up guard.
 */
export async function hasChatWith(tx: Tx, accountId: string, number: string, statuses: readonly MessageStatus[]): Promise<boolean> {
  const row = await tx
    .selectFrom('messages')
    .select('id')
    .where('account_id', '=', accountId)
    .where('recipient', '=', number)
    .where('status', 'in', [...statuses])
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}
