import type { Config } from '../config.js';
import { isMediaError } from './url-policy/media-error.js';
import { checkMediaUrlSyntax } from './url-policy/url-check.js';
import type { Store } from '../store/store.js';
import type { WhatsAppDriver } from './driver-port.js';
import { isSubscriptionActive, type Account } from './accounts.js';
import { AppError } from './errors.js';
import { acceptMessage, peekIdempotentReplay, type AcceptedMessage, type MessageKind, type RateLimitView } from './messages.js';
import type { OutcomeNotifier } from './outcome-notifier.js';
import { actsOnAnother, isMediaKind } from './message-content.js';
import { parseRecipient, type Recipient } from './recipients.js';
import { resolveContent, type SendExtras } from './send-content.js';
import { resolveQueueFields, type QueueFields, type QueueInput } from './queue/queue-fields.js';

export interface SendInput {
  kind: MessageKind;
  recipient: string | undefined;
  text: string | undefined;
  mediaUrl: string | undefined;
  /** The field the media URL came in (`file`, `image`, `document`), to name it in errors. */
  mediaField?: string;
  filename: string | undefined;
  /** The kind's own fields, `replyTo` and `mentions`. */
  extras?: SendExtras;
  waitMs: number;
  idempotencyKey: string | undefined;
  /** What the key is bound to (method, route, fields): the key reused with another is refused. */
  idempotencyFingerprint?: string;
  /** `sendAt`, `expiresAt`/`ttl`, `priority`. */
  queue?: QueueInput;
}

export interface SendResult {
  messageId: string;
  status: 'sent' | 'pending' | 'scheduled' | 'cancelled';
  rateLimit: RateLimitView | null;
  replayed: boolean;
}

export interface SendDeps {
  store: Store;
  config: Config;
  driver: WhatsAppDriver;
  notifier: OutcomeNotifier;
  clock: () => number;
  /** Told about every newly accepted message, so that dispatch starts at once. */
  onAccepted(messageId: string): void;
}

export const DEFAULT_FILENAME = 'document.pdf';

function required(value: string | undefined, name: string): string {
  if (value === undefined || value.trim() === '') throw new AppError('missing_parameter', `Missing required parameter: ${name}`);
  return value;
}

/**
 * SPEC §4's send flow: validate → subscription → connected? → plan checks and quota with the
 * durable insert (one atomic step) → dispatch → wait up to `waitMs` for the outcome.
 */
export async function sendMessage(deps: SendDeps, account: Account, input: SendInput): Promise<SendResult> {
  const recipient = actsOnAnother(input.kind) ? null : parseRecipient(required(input.recipient, 'recipient'));
  let mediaUrl: string | null = null;
  if (input.kind === 'text' || input.kind === 'edit') {
    required(input.text, 'text');
  } else if (isMediaKind(input.kind)) {
    const label = input.mediaField ?? (input.kind === 'image' ? 'file' : input.kind);
    const raw = required(input.mediaUrl, label);
    try {
      mediaUrl = checkMediaUrlSyntax(raw.trim(), { allowPrivate: deps.config.allowPrivateUrls, label: `${label} URL` }).href;
    } catch (error) {
      if (isMediaError(error)) throw new AppError('invalid_url', error.message);
      throw error;
    }
  }
  const now = deps.clock();
  const queue = resolveQueueFields(input.queue ?? {}, now, deps.config.sendScheduleMaxMs);
  if (!isSubscriptionActive(account, now)) {
    const when = account.subscriptionExpiresAt !== null && account.subscriptionExpiresAt <= now ? ` It expired on ${new Date(account.subscriptionExpiresAt).toISOString().slice(0, 10)}.` : '';
    throw new AppError('subscription_inactive', `Your subscription is not active, so sending is disabled.${when} Renew it to send again.`);
  }
  // A scheduled message waits for its time anyway: the session may well be back by then.
  if (queue.sendAt === null && !(await deps.driver.isConnected(account.id))) {
    throw new AppError('not_connected', 'WhatsApp is not connected for this account: link your number (QR code or pairing code) on the dashboard\'s WhatsApp connection page, then try again.');
  }
  const replay = input.idempotencyKey === undefined ? null : await peekIdempotentReplay(deps.store, account.id, input.idempotencyKey, input.idempotencyFingerprint, now);
  const accepted = replay ?? (await acceptResolved(deps, account, input, recipient, mediaUrl, queue, now));
  if (!accepted.replayed) deps.onAccepted(accepted.messageId);

  let status = accepted.status;
  let error = accepted.error;
  if (status === 'pending' && input.waitMs > 0) {
    const outcome = await deps.notifier.wait(accepted.messageId, input.waitMs);
    if (outcome) {
      status = outcome.status;
      error = outcome.status === 'failed' ? outcome.error : null;
    }
  }
  if (status === 'failed') {
    throw new AppError('send_failed', `The message was logged but could not be sent: ${error ?? 'unknown error'}`, { messageId: accepted.messageId });
  }
  return { messageId: accepted.messageId, status, rateLimit: accepted.rateLimit, replayed: accepted.replayed };
}

/** Checks the kind's content (targets, windows, options) and logs the message with its quota. */
async function acceptResolved(deps: SendDeps, account: Account, input: SendInput, recipient: Recipient | null, mediaUrl: string | null, queue: QueueFields, now: number): Promise<AcceptedMessage> {
  const resolved = await resolveContent(deps.store, account.id, input.kind, recipient, input.extras ?? {}, now);
  return acceptMessage(
    deps.store,
    deps.config,
    account,
    {
      recipient: resolved.recipient,
      kind: input.kind,
      content: resolved.content,
      text: input.text === undefined || input.text === '' ? null : input.text,
      mediaUrl,
      filename: input.kind === 'document' ? input.filename?.trim() || DEFAULT_FILENAME : null,
      idempotencyKey: input.idempotencyKey,
      idempotencyFingerprint: input.idempotencyFingerprint,
      queue,
    },
    now,
  );
}
