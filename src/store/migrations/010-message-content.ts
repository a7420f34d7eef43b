import type { Kysely } from 'kysely';

/**
 * Each message's content beyond text and media URL (location, contacts, poll, reaction target,
 * quoted message, mentions, the media's type/size/hash once fetched), as JSON; and the same
 * summary on each sandbox network record, so what reached the network can be checked.
 */
export function messageContentMigration() {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('messages').addColumn('content', 'text').execute();
      // Set when an edit or a delete-for-everyone of this message reached WhatsApp.
      await db.schema.alterTable('messages').addColumn('edited_at', 'bigint').execute();
      await db.schema.alterTable('messages').addColumn('revoked_at', 'bigint').execute();
      await db.schema.alterTable('sandbox_sends').addColumn('content', 'text').execute();
    },
  };
}
