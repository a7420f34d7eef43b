import type { Config } from '../config.js';
import type { Store } from '../store/store.js';
import { isSubscriptionActive, type Account } from './accounts.js';
import type { PresenceState, WhatsAppDriver } from './driver-port.js';
import { AppError } from './errors.js';
import { parseRecipient, type Recipient } from './recipients.js';

export interface ChatActionDeps {
  store: Store;
  config: Config;
  driver: WhatsAppDriver;
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

export async function markChatRead(deps: ChatActionDeps, account: Account, chat: string, waMessageIds: string[] | undefined): Promise<void> {
  const recipient = await checkChat(deps, account, chat);
  await deps.driver.markRead(account.id, recipient.value, waMessageIds && waMessageIds.length > 0 ? [...new Set(waMessageIds)] : null);
}
