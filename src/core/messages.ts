import type { Selectable } from 'kysely';
import type { Config } from '../config.js';
import type { MessagesTable } from '../store/schema.js';
import type { Store, Tx } from '../store/store.js';
import type { Account } from './accounts.js';
import { AppError } from './errors.js';
import { newMessageId, newWhatsAppMessageId } from './ids.js';
import { queryTemplate } from '../store/query-template.js';
import { enqueue } from './outbox.js';
import { acceptInOneStatement } from './accept-in-one-statement.js';
import { decodeCursor, pageOf } from './pagination.js';
import { countUsage, readUsage } from './quota.js';
import type { Recipient } from './recipients.js';

import { countsTowardLimit, parseContent, type MessageContent, type MessageKind } from './message-content.js';
import { contentSummary, type ContentSummary } from './content-summary.js';
import { checkReachout } from './restrictions/restrictions.js';
import { claimNewChat } from './warmup.js';
import { NO_QUEUE_FIELDS, priorityName, type Priority, type QueueFields } from './queue/queue-fields.js';

export type { MessageKind };
export type MessageStatus = 'scheduled' | 'pending' | 'sent' | 'failed' | 'cancelled' | 'received';
export type MessageDirection = 'in' | 'out';
/** Not yet on WhatsApp: a cancel may still stop these (unless a lane has the message in hand). */
export const WAITING_STATUSES: readonly MessageStatus[] = ['scheduled', 'pending'];
export type MessageRow = Selectable<MessagesTable>;

/**
 * The columns a send lane reads of each message it claimed: what it sends, and what it decides by.
 * Not the whole row: better-sqlite3 builds an object per row with a property per column, and a
 * claim's thousand rows of every column cost the lane about 10 µs a message.
 */
export const DISPATCH_COLUMNS = ['id', 'account_id', 'recipient', 'kind', 'text', 'media_url', 'filename', 'status', 'wa_message_id', 'created_at', 'content', 'send_at', 'expires_at'] as const;
export type DispatchRow = Pick<MessageRow, (typeof DISPATCH_COLUMNS)[number]>;
/** What giving back a message's quota and recipient slot needs of it. */
type HeldRow = Pick<MessageRow, 'id' | 'account_id' | 'recipient' | 'kind' | 'created_at'>;

export interface NewMessage {
  recipient: Recipient;
  kind: MessageKind;
  text: string | null;
  mediaUrl: string | null;
  filename: string | null;
  content?: MessageContent;
  idempotencyKey?: string;
  idempotencyFingerprint?: string;
  /** When it may go, until when, how urgent (core/queue/queue-fields.ts). */
  queue?: QueueFields;
  /** A bulk send's label, to list and cancel its messages together. */
  label?: string | null;
}

export interface RateLimitView {
  limit: number;
  remaining: number;
  resetSeconds: number;
}

export interface AcceptedMessage {
  messageId: string;
  /** The stored status: `pending` for a new message; for an idempotent replay, whatever it is now. */
  status: Exclude<MessageStatus, 'received'>;
  error: string | null;
  replayed: boolean;
  rateLimit: RateLimitView | null;
}

const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

/** "23 h 59 min", "5 min", "40 s": a wait as a person reads it (rounded up to the minute past one). */
export function humanDuration(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.ceil(seconds / 60);
  const hours = Math.floor(minutes / 60);
  return hours === 0 ? `${minutes} min` : minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
}

/**
 * Logs a message as `pending` with its outbox job, after the plan's checks, in one transaction:
 * the account's row is locked first (PostgreSQL) so that concurrent requests see each other's
 * counts, and on SQLite the single writer gives the same order. The answer goes out only after
 * the commit is on disk.
 */
export async function acceptMessage(store: Store, config: Config, account: Account, input: NewMessage, now: number): Promise<AcceptedMessage> {
  const plan = config.plans[account.plan];
  checkGroupAllowed(config, account, input);
  const counted = countsTowardLimit(input.kind);
  const serialise = (counted && (plan.dailyLimit !== null || plan.maxRecipients !== null || config.warmupNewChatsPerDay !== null)) || input.idempotencyKey !== undefined;
  if (!serialise && store.dialect === 'postgres') {
    const accepted = await acceptInOneStatement(store, account, input, now);
    if (accepted) return accepted;
  }

  return store.write(async (tx) => {
    if (serialise && store.locksRows) {
      await tx.selectFrom('accounts').select('id').where('id', '=', account.id).forUpdate().execute();
    }
    if (input.idempotencyKey !== undefined) {
      const replay = await findIdempotentReplay(tx, account.id, input.idempotencyKey, input.idempotencyFingerprint, now);
      if (replay) return replay;
    }
    const rateLimit = await checkPlan(tx, config, account, input, now);
    const accepted = await insertMessage(tx, account, input, now);
    if (input.idempotencyKey !== undefined) {
      const requestHash = input.idempotencyFingerprint ?? null;
      await tx
        .insertInto('idempotency_keys')
        .values({ account_id: account.id, key: input.idempotencyKey, message_id: accepted.messageId, created_at: now, request_hash: requestHash })
        .onConflict((oc) => oc.columns(['account_id', 'key']).doUpdateSet({ message_id: accepted.messageId, created_at: now, request_hash: requestHash }))
        .execute();
    }
    return { ...accepted, rateLimit };
  });
}

export function checkGroupAllowed(config: Config, account: Account, input: NewMessage): void {
  if (input.recipient.isGroup && !config.plans[account.plan].groups) {
    throw new AppError('plan_restriction', `Sending to groups needs the Unlimited plan; this account is on ${account.plan}.`);
  }
}

/**
 * The plan's rules for one more message, inside the accepting transaction (after the account's
 * lock): the recipient slot (Personal) and the daily limit. Nothing is written unless both pass,
 * so a refused item of a bulk send leaves the transaction as it found it.
 */
/** What a bulk send's items share inside its transaction: the usage read once, then counted along. */
export interface PlanCache {
  usage?: { count: number; resetSeconds: number };
}

export async function checkPlan(tx: Tx, config: Config, account: Account, input: NewMessage, now: number, cache?: PlanCache): Promise<RateLimitView | null> {
  const plan = config.plans[account.plan];
  checkGroupAllowed(config, account, input);
  // While WhatsApp's reach-out timelock holds (at the time the message would go), new chats are refused here.
  await checkReachout(tx, account.id, input.recipient, Math.max(now, input.queue?.sendAt ?? now));
  const counted = countsTowardLimit(input.kind);
  // A reaction goes to a chat the account already has: it takes no recipient slot and no quota.
  const needsSlot = counted && plan.maxRecipients !== null && !input.recipient.isGroup && !(await hasRecipientSlot(tx, account.id, input.recipient.value));
  if (needsSlot) await checkFreeRecipientSlot(tx, account.id, input.recipient.value, plan.maxRecipients!);
  let rateLimit: RateLimitView | null = null;
  if (counted && plan.dailyLimit !== null) {
    const usage = cache?.usage ?? (await readUsage(tx, account.id, now));
    if (cache) cache.usage = usage;
    if (usage.count >= plan.dailyLimit) {
      throw new AppError(
        'daily_limit_reached',
        `Daily limit reached: your ${account.plan} plan allows ${plan.dailyLimit} messages in 24 hours. The next one can be sent in ${humanDuration(usage.resetSeconds)} (Retry-After: ${usage.resetSeconds} seconds).`,
        { retryAfterSeconds: usage.resetSeconds, headers: rateLimitHeaders({ limit: plan.dailyLimit, remaining: 0, resetSeconds: usage.resetSeconds }) },
      );
    }
    rateLimit = {
      limit: plan.dailyLimit,
      remaining: plan.dailyLimit - usage.count - 1,
      resetSeconds: usage.count === 0 ? 24 * 60 * 60 : usage.resetSeconds,
    };
  }
  // The warm-up guard last: like the slot, nothing is written unless every check passed.
  if (counted && config.warmupNewChatsPerDay !== null) await claimNewChat(tx, account.id, input.recipient, config.warmupNewChatsPerDay, now);
  if (needsSlot) await tx.insertInto('allowed_recipients').values({ account_id: account.id, recipient: input.recipient.value, created_at: now }).execute();
  // Every check passed: the message will be counted (by the caller's insert, in this transaction).
  if (cache?.usage && rateLimit) cache.usage = { count: cache.usage.count + 1, resetSeconds: rateLimit.resetSeconds };
  return rateLimit;
}

/**
 * Inserts an accepted message (after its plan checks), counts it and queues its outbox job. A
 * scheduled message counts toward the daily limit when it is accepted, like any other: the quota
 * is a promise made at acceptance, so a schedule cannot be used to exceed it later.
 */
export async function insertMessage(tx: Tx, account: Account, input: NewMessage, now: number): Promise<{ messageId: string; status: 'scheduled' | 'pending'; error: null; replayed: false }> {
  const row = newMessageRow(account, input, now);
  await insertPendingMessage(tx, row);
  if (countsTowardLimit(input.kind)) await countUsage(tx, { accountId: account.id, messageId: row.id, createdAt: now }, 1);
  await enqueue(tx, { kind: 'message', accountId: account.id, ref: row.id, runAt: row.sendAt ?? now, now, priority: row.priority });
  return { messageId: row.id, status: row.status, error: null, replayed: false };
}

export type NewMessageRow = ReturnType<typeof newMessageRow>;

/** The row an accepted message is logged as (its outbox job runs at `sendAt`, else at once). */
export function newMessageRow(account: Account, input: NewMessage, now: number) {
  const queue = input.queue ?? NO_QUEUE_FIELDS;
  const status: 'scheduled' | 'pending' = queue.sendAt !== null && queue.sendAt > now ? 'scheduled' : 'pending';
  return {
    id: newMessageId(),
    accountId: account.id,
    recipient: input.recipient.value,
    kind: input.kind,
    text: input.text,
    mediaUrl: input.mediaUrl,
    filename: input.filename,
    content: input.content && Object.keys(input.content).length > 0 ? JSON.stringify(input.content) : null,
    waMessageId: newWhatsAppMessageId(),
    now,
    status,
    sendAt: queue.sendAt,
    expiresAt: queue.expiresAt,
    priority: queue.priority,
    label: input.label ?? null,
  };
}

const insertPendingMessage = queryTemplate(
  (
    db,
    a: {
      id: string;
      accountId: string;
      recipient: string;
      kind: string;
      text: string | null;
      mediaUrl: string | null;
      filename: string | null;
      content: string | null;
      waMessageId: string;
      now: number;
      status: string;
      sendAt: number | null;
      expiresAt: number | null;
      priority: number;
      label: string | null;
    },
  ) =>
    db.insertInto('messages').values({
      id: a.id,
      account_id: a.accountId,
      recipient: a.recipient,
      kind: a.kind,
      text: a.text,
      media_url: a.mediaUrl,
      filename: a.filename,
      content: a.content,
      status: a.status,
      error: null,
      wa_message_id: a.waMessageId,
      created_at: a.now,
      sent_at: null,
      delivered_at: null,
      read_at: null,
      send_at: a.sendAt,
      expires_at: a.expiresAt,
      priority: a.priority,
      label: a.label,
    }),
);

/**
 * A replay found before the request's content is checked: a retried delete (or reaction) must get
 * its first answer even though its target has changed since.
 */
export async function peekIdempotentReplay(store: Store, accountId: string, key: string, fingerprint: string | undefined, now: number): Promise<AcceptedMessage | null> {
  return findIdempotentReplay(store.db, accountId, key, fingerprint, now);
}

async function findIdempotentReplay(tx: Tx, accountId: string, key: string, fingerprint: string | undefined, now: number): Promise<AcceptedMessage | null> {
  const row = await tx
    .selectFrom('idempotency_keys')
    .innerJoin('messages', 'messages.id', 'idempotency_keys.message_id')
    .select(['messages.id', 'messages.status', 'messages.error', 'idempotency_keys.created_at', 'idempotency_keys.request_hash'])
    .where('idempotency_keys.account_id', '=', accountId)
    .where('idempotency_keys.key', '=', key)
    .executeTakeFirst();
  if (!row || row.created_at <= now - IDEMPOTENCY_WINDOW_MS) return null;
  // Stripe's rule: a key names one request; replaying the first answer to another would hide a bug.
  if (row.request_hash !== null && fingerprint !== undefined && row.request_hash !== fingerprint) {
    throw new AppError(
      'idempotency_key_reused',
      'This Idempotency-Key was used in the last 24 hours with a different request (method, endpoint or fields): use a new key for a new request.',
    );
  }
  return { messageId: row.id, status: row.status as AcceptedMessage['status'], error: row.error, replayed: true, rateLimit: null };
}

async function hasRecipientSlot(tx: Tx, accountId: string, recipient: string): Promise<boolean> {
  const known = await tx
    .selectFrom('allowed_recipients')
    .select('recipient')
    .where('account_id', '=', accountId)
    .where('recipient', '=', recipient)
    .executeTakeFirst();
  return known !== undefined;
}

async function checkFreeRecipientSlot(tx: Tx, accountId: string, recipient: string, max: number): Promise<void> {
  const { count } = await tx
    .selectFrom('allowed_recipients')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('account_id', '=', accountId)
    .executeTakeFirstOrThrow();
  if (Number(count) >= max) {
    throw new AppError(
      'plan_restriction',
      `Recipient ${recipient} is not allowed: the Personal plan sends to at most ${max} different recipients. Remove one on the dashboard's Recipients page to free a slot.`,
    );
  }
}

export function rateLimitHeaders(view: RateLimitView): Record<string, string> {
  return {
    'RateLimit-Limit': String(view.limit),
    'RateLimit-Remaining': String(Math.max(0, view.remaining)),
    'RateLimit-Reset': String(view.resetSeconds),
  };
}

export interface MessageView {
  messageId: string;
  /** `out`: sent by the account; `in`: received (its `recipient` is then the chat it arrived in). */
  direction: MessageDirection;
  status: MessageStatus;
  recipient: string;
  /** A received message's sender, as its event named them; null for sent messages. */
  from: string | null;
  fromLid: string | null;
  pushName: string | null;
  participant: string | null;
  /** The WhatsApp id (a received message's event `id`). */
  waMessageId: string;
  type: MessageKind;
  error: string | null;
  createdAt: string;
  sentAt: string | null;
  deliveredAt: string | null;
  readAt: string | null;
  playedAt: string | null;
  editedAt: string | null;
  revokedAt: string | null;
  /** A stable code for why it failed or ended (`expired`, `reachout_restricted`, `cancelled`…), null otherwise. */
  errorCode: string | null;
  /** When a scheduled message goes (null: at once). */
  sendAt: string | null;
  expiresAt: string | null;
  priority: Priority;
  /** The label of the bulk send it came in, if any. */
  label: string | null;
  /** What the message carries: text or caption, file, media, location, contacts, poll, reaction, quote, mentions. */
  content: ContentSummary;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function toMessageView(row: MessageRow): MessageView {
  const content = parseContent(row.content);
  const origin = content.inbound;
  return {
    messageId: row.id,
    direction: row.direction === 'in' ? 'in' : 'out',
    status: row.status as MessageStatus,
    recipient: row.recipient,
    from: origin?.from ?? null,
    fromLid: origin?.fromLid ?? null,
    pushName: origin?.pushName ?? null,
    participant: origin?.participant ?? null,
    waMessageId: row.wa_message_id,
    type: row.kind as MessageKind,
    error: row.error,
    createdAt: iso(row.created_at)!,
    sentAt: iso(row.sent_at),
    deliveredAt: iso(row.delivered_at),
    readAt: iso(row.read_at),
    playedAt: iso(row.played_at === null ? null : Number(row.played_at)),
    editedAt: iso(row.edited_at === null ? null : Number(row.edited_at)),
    revokedAt: iso(row.revoked_at === null ? null : Number(row.revoked_at)),
    errorCode: row.error_code ?? null,
    sendAt: iso(row.send_at === null || row.send_at === undefined ? null : Number(row.send_at)),
    expiresAt: iso(row.expires_at === null || row.expires_at === undefined ? null : Number(row.expires_at)),
    priority: priorityName(Number(row.priority ?? 1)),
    label: row.label ?? null,
    content: contentSummary(row.kind, row.text, row.filename, content),
  };
}

/** Another account's id answers exactly like an unknown one. */
export async function getMessage(store: Store, accountId: string, messageId: string): Promise<MessageView> {
  const row = await store.db
    .selectFrom('messages')
    .selectAll()
    .where('id', '=', messageId)
    .where('account_id', '=', accountId)
    .executeTakeFirst();
  if (!row) throw new AppError('not_found', `No message with id ${messageId} in this account.`);
  return toMessageView(row);
}

export async function listMessages(
  store: Store,
  accountId: string,
  query: { status?: MessageStatus; label?: string; direction?: MessageDirection | 'all'; chat?: string; limit: number; cursor?: string },
): Promise<{ messages: MessageView[]; nextCursor: string | null }> {
  let q = store.db.selectFrom('messages').selectAll().where('account_id', '=', accountId);
  const direction = query.direction ?? 'out';
  if (direction !== 'all') q = q.where('direction', '=', direction);
  if (query.chat !== undefined) q = q.where('recipient', '=', query.chat);
  if (query.status) q = q.where('status', '=', query.status);
  if (query.label !== undefined) q = q.where('label', '=', query.label);
  if (query.cursor) q = q.where('seq', '<', decodeCursor(query.cursor));
  const { page, nextCursor } = pageOf(await q.orderBy('seq', 'desc').limit(query.limit + 1).execute(), query.limit);
  return { messages: page.map(toMessageView), nextCursor };
}

/**
 * Records an outcome only if the message is still pending, and says whether it did: an outcome
 * that another worker already recorded (after a lost lock) is not recorded twice.
 */
export async function markSentMany(tx: Tx, ids: string[], at: number): Promise<Set<string>> {
  const rows = await tx
    .updateTable('messages')
    .set({ status: 'sent', sent_at: at, error: null, in_flight_at: null })
    .where('id', 'in', ids)
    .where('status', 'in', WAITING_STATUSES)
    .returning('id')
    .execute();
  return new Set(rows.map((r) => r.id));
}

/** A failed message stops counting against the daily limit, and gives back the recipient slot it claimed. */
export async function markFailed(tx: Tx, row: HeldRow, error: string, code: string | null = null): Promise<boolean> {
  const result = await tx
    .updateTable('messages')
    .set({ status: 'failed', error, error_code: code, in_flight_at: null })
    .where('id', '=', row.id)
    .where('status', 'in', WAITING_STATUSES)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) !== 1) return false;
  await giveBack(tx, row);
  return true;
}

/** What an accepted message held (its quota and recipient slot) goes back when it ends without being sent. */
export async function giveBack(tx: Tx, row: HeldRow): Promise<void> {
  // Reactions, edits and deletes never counted nor took a recipient slot.
  if (countsTowardLimit(row.kind as MessageKind)) {
    await countUsage(tx, { accountId: row.account_id, messageId: row.id, createdAt: row.created_at }, -1);
    await releaseRecipientSlot(tx, row);
  }
}

/**
 * The slot is claimed when a message is accepted (so concurrent sends cannot exceed the plan's
 * maximum) and released here when that message fails (a number not on WhatsApp, say): only the slot
 * claimed at this message's acceptance, and only while no other message to that recipient is pending
 * or sent, since those hold it too.
 */
async function releaseRecipientSlot(tx: Tx, row: HeldRow): Promise<void> {
  await tx
    .deleteFrom('allowed_recipients')
    .where('account_id', '=', row.account_id)
    .where('recipient', '=', row.recipient)
    .where('created_at', '=', row.created_at)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('messages')
            .select('messages.id')
            .where('messages.account_id', '=', row.account_id)
            .where('messages.recipient', '=', row.recipient)
            .where('messages.status', 'not in', ['failed', 'cancelled']),
        ),
      ),
    )
    .execute();
}
