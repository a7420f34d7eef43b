import type { Kysely } from 'kysely';

/**
 * Scale-out on PostgreSQL (issue 18): `wa_processes` lists the gateway processes sharing the
 * database, each with a heartbeat, so every process can work out its fair share of the sessions.
 * A session lease gains a fencing `token` that grows with every change of holder (an outcome is
 * recorded only under the token that sent it) and the time its holder took it. The sandbox's
 * network names the process and the token that sent each message, so a test can prove that a
 * process which lost its lease sent nothing.
 */
export function scaleOutMigration() {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('wa_processes')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('host', 'text', (c) => c.notNull())
        .addColumn('pid', 'integer', (c) => c.notNull())
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('heartbeat_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.alterTable('wa_session_leases').addColumn('token', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('wa_session_leases').addColumn('acquired_at', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('sandbox_sends').addColumn('sent_by', 'text').execute();
      await db.schema.alterTable('sandbox_sends').addColumn('lease_token', 'bigint').execute();
    },
  };
}
