import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../dialect.js';

/**
 * Two released migrations were edited after they shipped, so a database created in between never
 * got the edit (Kysely runs a migration once, by name):
 * - 003-baileys as released lacked `wa_recipients` (added in d73110b);
 * - 005-usage-hours as released made an unsharded `usage_hours` beside `usage_buckets` (5415f92 made
 *   it the sharded `usage_minutes` and `usage_hours` and dropped `usage_buckets`).
 * This brings either variant to today's schema and does nothing to a database that already has it.
 * (A SQLite database from between 5415f92 and 2d2fecd keeps rowid usage tables: same columns and
 * answers, only not clustered by key; it is left as it is.)
 */
export function repairEditedMigrationsMigration(dialect: Dialect) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('wa_recipients')
        .ifNotExists()
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('phone', 'text', (c) => c.notNull())
        .addColumn('jid', 'text')
        .addColumn('checked_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('wa_recipients_pk', ['account_id', 'phone'])
        .execute();

      const tables = await db.introspection.getTables();
      const hours = tables.find((t) => t.name === 'usage_hours');
      if (!hours || hours.columns.some((c) => c.name === 'shard')) return;
      // The first 005: per-minute counts in usage_buckets (the source of truth), hours derived from them.
      await db.schema.dropTable('usage_hours').execute();
      for (const [table, column] of [
        ['usage_minutes', 'minute'],
        ['usage_hours', 'hour'],
      ] as const) {
        const create = db.schema
          .createTable(table)
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn(column, 'bigint', (c) => c.notNull())
          .addColumn('shard', 'integer', (c) => c.notNull())
          .addColumn('count', 'integer', (c) => c.notNull())
          .addPrimaryKeyConstraint(`${table}_pk`, ['account_id', column, 'shard']);
        await (dialect === 'sqlite' ? create.modifyEnd(sql`without rowid`) : create).execute();
      }
      await sql`insert into usage_minutes (account_id, minute, shard, count) select account_id, bucket, 0, count from usage_buckets`.execute(db);
      await sql`insert into usage_hours (account_id, hour, shard, count)
        select account_id, bucket / 60, 0, sum(count) from usage_buckets group by account_id, bucket / 60`.execute(db);
      await db.schema.dropTable('usage_buckets').execute();
    },
  };
}
