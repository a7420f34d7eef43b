import type { Kysely } from 'kysely';

/**
 * Calls that need a session's live socket, forwarded through the database to the process holding
 * it (issue 18): the caller writes a row and notifies the holder's channel; the holder claims it,
 * runs the call and writes the answer into the same row. Rows live seconds: the caller deletes
 * its row once answered or given up, and stale ones are swept.
 */
export function sessionCallsMigration() {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('session_calls')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('holder', 'text', (c) => c.notNull())
        .addColumn('caller', 'text', (c) => c.notNull())
        .addColumn('call', 'text', (c) => c.notNull())
        .addColumn('args', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('deadline', 'bigint', (c) => c.notNull())
        .addColumn('claimed_at', 'bigint')
        .addColumn('answered_at', 'bigint')
        .addColumn('answer', 'text')
        .execute();
      await db.schema.createIndex('session_calls_holder').on('session_calls').columns(['holder', 'claimed_at']).execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('session_calls').execute();
    },
  };
}
