import type { Kysely } from 'kysely';
import type { Dialect } from '../dialect.js';

/**
 * Tables for the Baileys driver: the linked device's auth state (creds and signal keys, each value
 * encrypted), the groups cache, the ids of incoming messages already raised, the answers of WhatsApp's
 * "is this number on WhatsApp" check, and per-session leases
 * so that several processes on one PostgreSQL never hold the same session.
 */
export function baileysMigration(_dialect: Dialect) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('wa_auth_creds')
        .addColumn('account_id', 'text', (c) => c.primaryKey().references('accounts.id').onDelete('cascade'))
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('linked', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('wa_auth_keys')
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('wa_auth_keys_pk', ['account_id', 'type', 'key_id'])
        .execute();

      await db.schema
        .createTable('wa_groups')
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('group_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('participants', 'integer', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('wa_groups_pk', ['account_id', 'group_id'])
        .execute();

      await db.schema
        .createTable('wa_incoming_seen')
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('wa_message_id', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('wa_incoming_seen_pk', ['account_id', 'wa_message_id'])
        .execute();
      await db.schema.createIndex('wa_incoming_seen_at').on('wa_incoming_seen').column('at').execute();

      await db.schema
        .createTable('wa_recipients')
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('phone', 'text', (c) => c.notNull())
        .addColumn('jid', 'text')
        .addColumn('checked_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('wa_recipients_pk', ['account_id', 'phone'])
        .execute();

      await db.schema
        .createTable('wa_session_leases')
        .addColumn('account_id', 'text', (c) => c.primaryKey().references('accounts.id').onDelete('cascade'))
        .addColumn('owner', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  };
}
