import type { Config } from '../config.js';
import type { Store, Tx } from '../store/store.js';
import { isSubscriptionActive, type Account } from './accounts.js';
import { AppError } from './errors.js';
import { newMessageId } from './ids.js';
import { actsOnAnother, isMediaKind } from './message-content.js';
import { checkPlan, insertMessage, type NewMessage, type PlanCache, type RateLimitView } from './messages.js';
import { resolveQueueFields } from './queue/queue-fields.js';
import { parseRecipient } from './recipients.js';
import { resolveContent } from './send-content.js';
import { checkMediaUrlSyntax } from './url-policy/url-check.js';
import { isMediaError } from './url-policy/media-error.js';
import { DEFAULT_FILENAME, type SendInput } from './send.js';

/** One item of a bulk send, as the endpoint read it: a send's input, or why it could not be read. */
export type BulkItem = Omit<SendInput, 'waitMs' | 'idempotencyKey' | 'idempotencyFingerprint'> | AppError;

export type BulkResult = { messageId: string; status: 'scheduled' | 'pending' } | { error: string; code: string };

export interface BulkAnswer {
  label: string;
  results: BulkResult[];
  /** The last accepted item's view of the daily limit (null on Unlimited, or when none was accepted). */
  rateLimit: RateLimitView | null;
  replayed: boolean;
}

const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

function required(value: string | undefined, name: string): string {
  if (value === undefined || value.trim() === '') throw new AppError('missing_parameter', `Missing required parameter: ${name}`);
  return value;
}

const asError = (error: unknown): BulkResult => {
  if (error instanceof AppError) return { error: error.message, code: error.code };
  throw error;
};

/** Everything a single send checks before its transaction, for one item; an AppError is that item's answer. */
async function prepare(store: Store, config: Config, account: Account, item: Exclude<BulkItem, AppError>, now: number, connected: boolean): Promise<NewMessage> {
  const recipient = actsOnAnother(item.kind) ? null : parseRecipient(required(item.recipient, 'recipient'));
  let mediaUrl: string | null = null;
  if (item.kind === 'text') required(item.text, 'text');
  else if (isMediaKind(item.kind)) {
    const label = item.mediaField ?? (item.kind === 'image' ? 'file' : item.kind);
    const raw = required(item.mediaUrl, label);
    try {
      mediaUrl = checkMediaUrlSyntax(raw.trim(), { allowPrivate: config.allowPrivateUrls, label: `${label} URL` }).href;
    } catch (error) {
      if (isMediaError(error)) throw new AppError('invalid_url', error.message);
      throw error;
    }
  }
  const queue = resolveQueueFields(item.queue ?? {}, now, config.sendScheduleMaxMs);
  if (queue.sendAt === null && !connected) {
    throw new AppError('not_connected', 'WhatsApp is not connected for this account: link your number, then try again (or give this item a sendAt).');
  }
  const resolved = await resolveContent(store, account.id, item.kind, recipient, item.extras ?? {}, now);
  return {
    recipient: resolved.recipient,
    kind: item.kind,
    content: resolved.content,
    text: item.text === undefined || item.text === '' ? null : item.text,
    mediaUrl,
    filename: item.kind === 'document' ? item.filename?.trim() || DEFAULT_FILENAME : null,
    queue,
  };
}

/**
 * POST /api/v1/send/bulk: each item is checked as a single send would be (its fields, then the
 * plan's rules and the daily limit in item order), and every accepted item is logged in one
 * transaction, so the batch is on disk as a whole before the answer goes out. A refused item
 * takes no quota and leaves no trace; the others go on. The whole answer is kept under the
 * batch's Idempotency-Key.
 */
export async function sendBulk(
  store: Store,
  config: Config,
  account: Account,
  input: { items: BulkItem[]; label: string | undefined; idempotencyKey: string | undefined; fingerprint: string; connected: boolean },
  now: number,
): Promise<BulkAnswer> {
  if (!isSubscriptionActive(account, now)) {
    throw new AppError('subscription_inactive', 'Your subscription is not active, so sending is disabled. Renew it to send again.');
  }
  if (input.idempotencyKey !== undefined) {
    const replay = await findReplay(store.db, account.id, input.idempotencyKey, input.fingerprint, now);
    if (replay) return replay;
  }
  const label = input.label ?? `bulk_${newMessageId()}`;
  const prepared: Array<NewMessage | BulkResult> = [];
  for (const item of input.items) {
    if (item instanceof AppError) {
      prepared.push(asError(item));
      continue;
    }
    try {
      prepared.push(await prepare(store, config, account, item, now, input.connected));
    } catch (error) {
      prepared.push(asError(error));
    }
  }
  return store.write(async (tx) => {
    if (store.locksRows) await tx.selectFrom('accounts').select('id').where('id', '=', account.id).forUpdate().execute();
    if (input.idempotencyKey !== undefined) {
      // A concurrent copy of this batch may have committed while this one was being prepared.
      const replay = await findReplay(tx, account.id, input.idempotencyKey, input.fingerprint, now);
      if (replay) return replay;
    }
    const results: BulkResult[] = [];
    let rateLimit: RateLimitView | null = null;
    // The daily limit's count is read once and kept up to date item by item (the account is locked).
    const cache: PlanCache = {};
    for (const item of prepared) {
      if (!('kind' in item)) {
        results.push(item);
        continue;
      }
      try {
        const view = await checkPlan(tx, config, account, item, now, cache);
        const accepted = await insertMessage(tx, account, { ...item, label }, now);
        if (view) rateLimit = view;
        results.push({ messageId: accepted.messageId, status: accepted.status === 'scheduled' ? 'scheduled' : 'pending' });
      } catch (error) {
        results.push(asError(error));
      }
    }
    if (input.idempotencyKey !== undefined) {
      const answer = JSON.stringify({ label, results });
      await tx
        .insertInto('bulk_requests')
        .values({ account_id: account.id, key: input.idempotencyKey, request_hash: input.fingerprint, answer, created_at: now })
        .onConflict((oc) => oc.columns(['account_id', 'key']).doUpdateSet({ request_hash: input.fingerprint, answer, created_at: now }))
        .execute();
    }
    return { label, results, rateLimit, replayed: false };
  });
}

async function findReplay(db: Tx, accountId: string, key: string, fingerprint: string, now: number): Promise<BulkAnswer | null> {
  const row = await db.selectFrom('bulk_requests').selectAll().where('account_id', '=', accountId).where('key', '=', key).executeTakeFirst();
  if (!row || Number(row.created_at) <= now - IDEMPOTENCY_WINDOW_MS) return null;
  if (row.request_hash !== fingerprint) {
    throw new AppError('idempotency_key_reused', 'This Idempotency-Key was used in the last 24 hours with a different request (method, endpoint or fields): use a new key for a new request.');
  }
  const answer = JSON.parse(row.answer) as { label: string; results: BulkResult[] };
  return { ...answer, rateLimit: null, replayed: true };
}
