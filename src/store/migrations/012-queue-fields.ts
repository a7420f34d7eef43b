import type { Kysely } from 'kysely';

/**
 * The queue's fields (issue 15): when a message may go (`send_at`), until when it is worth sending
 * (`expires_at`), its priority (0 high, 1 normal, 2 low; copied onto its outbox job so a lane can
 * take the urgent ones first), the label a bulk send gives its messages, a stable code for why a
 * message failed or ended (`error_code`), and `in_flight_at`: set when a send lane takes the message
 * in hand, so that a cancel and a send of the same message can never both happen. `bulk_requests`
 * keeps a bulk send's answer under its Idempotency-Key, so a retried batch gets the same results.
 * `account_restrictions` holds what WhatsApp last said of the number's limits (reach-out timelock,
 * new-chat cap), refreshed on connect and on WhatsApp's notifications, never per send.
 * `warmup_new_chats` records each accepted message that opened a chat with a new number, for the
 * optional warm-up cap (new chats per session per day).
 */
export function queueFieldsMigration() {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('messages').addColumn('send_at', 'bigint').execute();
      await db.schema.alterTable('messages').addColumn('expires_at', 'bigint').execute();
      await db.schema.alterTable('messages').addColumn('priority', 'integer', (c) => c.notNull().defaultTo(1)).execute();
      await db.schema.alterTable('messages').addColumn('label', 'text').execute();
      await db.schema.alterTable('messages').addColumn('error_code', 'text').execute();
      await db.schema.alterTable('messages').addColumn('in_flight_at', 'bigint').execute();
      await db.schema.createIndex('messages_account_label').on('messages').columns(['account_id', 'label']).execute();
      await db.schema.alterTable('outbox').addColumn('priority', 'integer', (c) => c.notNull().defaultTo(1)).execute();
      await db.schema
        .createTable('bulk_requests')
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('request_hash', 'text', (c) => c.notNull())
        .addColumn('answer', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('bulk_requests_pk', ['account_id', 'key'])
        .execute();
      await db.schema
        .createTable('account_restrictions')
        .addColumn('account_id', 'text', (c) => c.primaryKey().references('accounts.id').onDelete('cascade'))
        .addColumn('timelock_active', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('timelock_until', 'bigint')
        .addColumn('cap_used', 'integer')
        .addColumn('cap_total', 'integer')
        .addColumn('cap_cycle_ends_at', 'bigint')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('warmup_new_chats')
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('recipient', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('warmup_new_chats_pk', ['account_id', 'recipient'])
        .execute();
      await db.schema.createIndex('warmup_new_chats_created').on('warmup_new_chats').columns(['account_id', 'created_at']).execute();
      await db.schema.createIndex('bulk_requests_created').on('bulk_requests').column('created_at').execute();
      await db.schema.createIndex('outbox_account_priority').on('outbox').columns(['account_id', 'kind', 'priority', 'run_at']).execute();
    },
  };
}
