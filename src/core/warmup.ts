import type { Tx } from '../store/store.js';
import { hasChatWith } from './chat-history.js';
import { AppError } from './errors.js';
import { humanDuration } from './messages.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The warm-up guard (WARMUP_NEW_CHATS_PER_DAY, off by default): a freshly linked number may open at
 * most `cap` chats with new numbers in any 24 hours. A new chat is a message to a number the account
 * has no earlier message to (other than failed or cancelled ones). Runs inside the accepting
 * transaction after the account's lock, as the daily limit does, so concurrent sends are counted
 * exactly; it is the last check, so a refusal leaves nothing written.
 */
export async function claimNewChat(tx: Tx, accountId: string, recipient: { value: string; isGroup: boolean }, cap: number, now: number): Promise<void> {
  if (recipient.isGroup) return;
  if (await hasChatWith(tx, accountId, recipient.value, ['scheduled', 'pending', 'sent', 'received'])) return;
  const opened = await tx
    .selectFrom('warmup_new_chats')
    .select(['created_at'])
    .where('account_id', '=', accountId)
    .where('created_at', '>', now - DAY_MS)
    .orderBy('created_at')
    .execute();
  if (opened.length >= cap) {
    const retryAfter = Math.max(1, Math.ceil((Number(opened[0]!.created_at) + DAY_MS - now) / 1000));
    throw new AppError(
      'new_chat_limit_reached',
      `Warm-up limit reached: this number may open ${cap} new chats in 24 hours (WARMUP_NEW_CHATS_PER_DAY), to keep a freshly linked number healthy. Messages to people it already chats with still go; the next new chat can start in ${humanDuration(retryAfter)} (Retry-After: ${retryAfter} seconds).`,
      { retryAfterSeconds: retryAfter },
    );
  }
  await tx
    .insertInto('warmup_new_chats')
    .values({ account_id: accountId, recipient: recipient.value, created_at: now })
    .onConflict((oc) => oc.columns(['account_id', 'recipient']).doUpdateSet({ created_at: now }))
    .execute();
}
