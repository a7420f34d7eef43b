import type { Kysely } from 'kysely';

/**
 * The durable event log behind the pull queue (GET /api/v1/events): every event an account's plan
 * may receive, with its webhook body, numbered per account. `event_log_heads` holds each account's
 * last number and how far its consumer acknowledged; taking the next number updates that row, so
 * the row lock orders commits and a number is never visible before a smaller one.
 */
export function eventLogMigration() {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('event_log')
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addColumn('event', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('event_log_pk', ['account_id', 'seq'])
        .execute();
      await db.schema.createIndex('event_log_created').on('event_log').columns(['created_at']).execute();
      await db.schema
        .createTable('event_log_heads')
        .addColumn('account_id', 'text', (c) => c.primaryKey().references('accounts.id').onDelete('cascade'))
        .addColumn('last_seq', 'bigint', (c) => c.notNull())
        .addColumn('acked_seq', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
    },
  };
}
