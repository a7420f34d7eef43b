import type { Config } from '../config.js';
import type { Store } from '../store/store.js';
import { isSubscriptionActive, type Account } from './accounts.js';
import type { PresenceState, ReadTarget } from './driver-port.js';
import type { SessionCalls } from './session-calls.js';
import { AppError } from './errors.js';
import { parseRecipient, type Recipient } from './recipients.js';

export interface ChatActionDeps {
  store: Store;
  config: Config;
  driver: SessionCalls;
  clock: () => number;
}

/**
 * Presence and read marks are not messages: they count toward no limit and take no recipient
 * slot, but follow the same rules as sending (active subscription, connected, groups on Unlimited).
 */
async function checkChat(deps: ChatActionDeps, account: Account, chat: string): Promise<Recipient> {
  const recipient = parseRecipient(chat);
  if (!isSubscriptionActive(account, deps.clock())) throw new AppError('subscription_inactive', 'Your subscription is not active, so sending is disabled. Renew it to send again.');
  if (recipient.isGroup && !deps.config.plans[account.plan]?.groups) {
    throw new AppError('plan_restriction', `Groups need the Unlimited plan; this account is on ${account.plan}.`);
  }
  if (!(await deps.driver.isConnected(account.id))) {
    throw new AppError('not_connected', 'WhatsApp is not connected for this account: link your number (QR code or pairing code) in Settings, then try again.');
  }
  return recipient;
}

export async function sendPresence(deps: ChatActionDeps, account: Account, chat: string, state: PresenceState): Promise<void> {
  const recipient = await checkChat(deps, account, chat);
  await deps.driver.sendPresence(account.id, recipient.value, state);
}

/** How many of a chat's newest received messages "mark the chat read" (no ids given) covers. */
export const READ_ALL_LIMIT = 100;

/**
 * The received messages a read mark names, from the inbox: ids may be WhatsApp's (as in
 * `message.received`'s `id`) or our log's (`messageId`); in a group each carries who wrote it.
 * An id the inbox does not hold is passed on as WhatsApp's. No ids: the chat's newest received ones.
 */
async function readTargets(store: Store, accountId: string, chat: Recipient, ids: string[] | undefined): Promise<ReadTarget[]> {
  const participantOf = (sender: string | null) => (chat.isGroup ? sender : null);
  if (ids && ids.length > 0) {
    const wanted = [...new Set(ids)];
    const rows = await store.db
      .selectFrom('messages')
      .select(['id', 'wa_message_id', 'sender'])
      .where('account_id', '=', accountId)
      .where('direction', '=', 'in')
      .where('recipient', '=', chat.value)
      .where((eb) => eb.or([eb('wa_message_id', 'in', wanted), eb('id', 'in', wanted)]))
      .execute();
    const known = new Map<string, ReadTarget>();
    for (const row of rows) {
      const target = { waMessageId: row.wa_message_id, participant: participantOf(row.sender) };
      known.set(row.wa_message_id, target);
      known.set(row.id, target);
    }
    const targets = wanted.map((id) => known.get(id) ?? { waMessageId: id, participant: null });
    return [...new Map(targets.map((t) => [t.waMessageId, t])).values()];
  }
  const rows = await store.db
    .selectFrom('messages')
    .select(['wa_message_id', 'sender'])
    .where('account_id', '=', accountId)
    .where('direction', '=', 'in')
    .where('recipient', '=', chat.value)
    .orderBy('created_at', 'desc')
    .limit(READ_ALL_LIMIT)
    .execute();
  return rows.map((row) => ({ waMessageId: row.wa_message_id, participant: participantOf(row.sender) }));
}

export async function markChatRead(deps: ChatActionDeps, account: Account, chat: string, messageIds: string[] | undefined): Promise<void> {
  const recipient = await checkChat(deps, account, chat);
  const targets = await readTargets(deps.store, account.id, recipient, messageIds);
  if (targets.length > 0) await deps.driver.markRead(account.id, recipient.value, targets);
}
