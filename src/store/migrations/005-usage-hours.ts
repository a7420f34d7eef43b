import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../dialect.js';

/**
 * Usage counters by minute and by hour, each split into shards: a rolling-24-hour count reads at
 * most 24 hourly and 59 minute rows per shard in use, and concurrent sends of one Unlimited
 * account (no limit, so no lock on the account) do not queue on one counter row on PostgreSQL.
 */
export function usageHoursMigration(dialect: Dialect) {
  return {
    async up(db: Kysely<any>): Promise<void> {
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
        // On SQLite the rows are stored in key order, so a window's sum reads them without a lookup each.
        await (dialect === 'sqlite' ? create.modifyEnd(sql`without rowid`) : create).execute();
      }
      await sql`insert into usage_minutes (account_id, minute, shard, count) select account_id, bucket, 0, count from usage_buckets`.execute(db);
      await sql`insert into usage_hours (account_id, hour, shard, count)
        select account_id, bucket / 60, 0, sum(count) from usage_buckets group by account_id, bucket / 60`.execute(db);
      await db.schema.dropTable('usage_buckets').execute();
    },
  };
}
