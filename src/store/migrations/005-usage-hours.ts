import { sql, type Kysely } from 'kysely';

/** Hourly usage beside the per-minute buckets, so a rolling-24-hour count reads at most ~84 rows. */
export function usageHoursMigration() {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('usage_hours')
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('hour', 'bigint', (c) => c.notNull())
        .addColumn('count', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('usage_hours_pk', ['account_id', 'hour'])
        .execute();
      await sql`insert into usage_hours (account_id, hour, count)
        select account_id, bucket / 60, sum(count) from usage_buckets group by account_id, bucket / 60`.execute(db);
    },
  };
}
