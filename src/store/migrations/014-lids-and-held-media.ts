import type { Kysely } from 'kysely';

/**
 * Issue 14, the parts left. `lid_mappings`: each account's own record of which phone number is
 * behind a LID (`…@lid`), as WhatsApp told its session (LID-mapping updates, a message key's
 * alternate id, contacts). `event_log.media_id`: the inbound media an event refers to when the
 * pull queue is its only way out (no webhook took it), so retention keeps that media until the
 * account has acknowledged the event; with a webhook, its delivery holds the media instead.
 */
export function lidsAndHeldMediaMigration() {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('lid_mappings')
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('lid', 'text', (c) => c.notNull())
        .addColumn('phone', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('lid_mappings_pk', ['account_id', 'lid'])
        .execute();
      await db.schema.createIndex('lid_mappings_phone').on('lid_mappings').columns(['account_id', 'phone']).execute();

      await db.schema.alterTable('event_log').addColumn('media_id', 'text').execute();
      await db.schema.createIndex('event_log_media').on('event_log').columns(['media_id']).execute();
    },
  };
}
