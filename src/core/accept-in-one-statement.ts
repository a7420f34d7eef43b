import { sql } from 'kysely';
import type { Store } from '../store/store.js';
import type { Account } from './accounts.js';
import { countsTowardLimit } from './message-content.js';
import { newMessageRow, type AcceptedMessage, type NewMessage } from './messages.js';
import { bucketOf, shardOf } from './quota.js';

/**
 * PostgreSQL's accepted send in one round trip (issue 20), for a message that needs no lock on
 * its account (no daily limit, recipient list, warm-up or idempotency key: see acceptMessage): the
 * reach-out check, the message, its two usage counters and its outbox job in one statement, its own
 * transaction, committed (and flushed) before it returns. It writes nothing when the reach-out
 * timelock refuses the recipient, and answers null: the caller then takes the general path, which
 * words the refusal (or accepts, if the lock lifted meanwhile).
 * The same rows as insertMessage writes, so everything that reads them is unchanged.
 */
export async function acceptInOneStatement(store: Store, account: Account, input: NewMessage, now: number): Promise<AcceptedMessage | null> {
  const row = newMessageRow(account, input, now);
  const counted = countsTowardLimit(input.kind);
  const minute = bucketOf(now);
  const shard = shardOf(row.id);
  // Like checkReachout: when the message would go, and not for groups.
  const reachoutAt = Math.max(now, row.sendAt ?? now);
  const { rows } = await store.writeStatement((db) =>
    sql<{ id: string }>`
      WITH blocked AS (
        SELECT 1 FROM account_restrictions r
        WHERE ${!input.recipient.isGroup}::boolean AND r.account_id = ${row.accountId}
          AND r.timelock_active = 1 AND (r.timelock_until IS NULL OR r.timelock_until > ${reachoutAt}::bigint)
          -- Correlated with r, so it runs only for an active timelock: uncorrelated, PostgreSQL ran it
          -- first, on every send, over every message of the account to this recipient.
          AND NOT EXISTS (
            SELECT 1 FROM messages m
            WHERE m.account_id = r.account_id AND m.recipient = ${row.recipient} AND m.status IN ('sent', 'received'))
      ), message AS (
        INSERT INTO messages (id, account_id, recipient, kind, text, media_url, filename, content, status, error, wa_message_id,
          created_at, sent_at, delivered_at, read_at, send_at, expires_at, priority, label)
        SELECT ${row.id}::text, ${row.accountId}::text, ${row.recipient}::text, ${row.kind}::text, ${row.text}::text, ${row.mediaUrl}::text,
          ${row.filename}::text, ${row.content}::text, ${row.status}::text, NULL, ${row.waMessageId}::text,
          ${now}::bigint, NULL, NULL, NULL, ${row.sendAt}::bigint, ${row.expiresAt}::bigint, ${row.priority}::integer, ${row.label}::text
        WHERE NOT EXISTS (SELECT 1 FROM blocked)
        RETURNING id
      ), minute AS (
        INSERT INTO usage_minutes (account_id, minute, shard, count)
        SELECT ${row.accountId}::text, ${minute}::bigint, ${shard}::integer, 1 FROM message WHERE ${counted}::boolean
        ON CONFLICT (account_id, minute, shard) DO UPDATE SET count = usage_minutes.count + excluded.count
      ), hour AS (
        INSERT INTO usage_hours (account_id, hour, shard, count)
        SELECT ${row.accountId}::text, ${Math.floor(minute / 60)}::bigint, ${shard}::integer, 1 FROM message WHERE ${counted}::boolean
        ON CONFLICT (account_id, hour, shard) DO UPDATE SET count = usage_hours.count + excluded.count
      ), job AS (
        INSERT INTO outbox (kind, account_id, ref, attempts, run_at, locked_until, locked_by, last_error, created_at, priority)
        SELECT 'message', ${row.accountId}::text, id, 0, ${row.sendAt ?? now}::bigint, NULL, NULL, NULL, ${now}::bigint, ${row.priority}::integer FROM message
      )
      SELECT id FROM message`.execute(db),
  );
  if (rows.length === 0) return null;
  return { messageId: row.id, status: row.status, error: null, replayed: false, rateLimit: null };
}
