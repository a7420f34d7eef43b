import type { Kysely } from 'kysely';
import type { Dialect } from '../dialect.js';

/**
 * The inbound side (issue 14): received messages join the message log (`direction` 'in', their
 * chat in `recipient`, the sender in `sender`), voice notes get a played time, each account
 * chooses its webhook events and inline-media cap, and inbound media is kept with its metadata
 * (its bytes in `data` on PostgreSQL, where every process must reach them; in a file under
 * DATA_DIR on SQLite). A webhook delivery names the media its event refers to, so retention can
 * keep that media until the delivery has finished.
 */
export function inboundMigration(dialect: Dialect) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('messages').addColumn('direction', 'text', (c) => c.notNull().defaultTo('out')).execute();
      await db.schema.alterTable('messages').addColumn('sender', 'text').execute();
      await db.schema.alterTable('messages').addColumn('played_at', 'bigint').execute();
      await db.schema.createIndex('messages_account_direction_seq').on('messages').columns(['account_id', 'direction', 'seq']).execute();
      await db.schema.createIndex('messages_account_chat_seq').on('messages').columns(['account_id', 'recipient', 'seq']).execute();

      await db.schema.alterTable('accounts').addColumn('webhook_events', 'text').execute();
      await db.schema.alterTable('accounts').addColumn('inline_media_max_bytes', 'integer', (c) => c.notNull().defaultTo(0)).execute();

      await db.schema
        .createTable('inbound_media')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('message_id', 'text', (c) => c.notNull())
        .addColumn('mimetype', 'text', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('file_name', 'text')
        .addColumn('storage', 'text', (c) => c.notNull())
        .addColumn('data', dialect === 'postgres' ? 'bytea' : 'blob')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('inbound_media_created').on('inbound_media').columns(['created_at']).execute();
      await db.schema.createIndex('inbound_media_account').on('inbound_media').columns(['account_id']).execute();

      await db.schema.alterTable('webhook_deliveries').addColumn('media_id', 'text').execute();
      await db.schema.createIndex('webhook_deliveries_media').on('webhook_deliveries').columns(['media_id']).execute();
    },
  };
}
