import type { Kysely } from 'kysely';

/**
 * What per-account bounds need: the fingerprint of the request an Idempotency-Key was first used
 * with (a reuse with another body is refused), and which deliveries are redeliveries (counted per
 * hour), found by event (an event already queued is not queued twice).
 */
export function requestBoundsMigration() {
  return {
    async up(db: Kysely<any>): Promise<void> {
      // Null for keys stored before this migration: those replay as before.
      await db.schema.alterTable('idempotency_keys').addColumn('request_hash', 'text').execute();
      await db.schema.alterTable('webhook_deliveries').addColumn('redelivery', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.createIndex('webhook_deliveries_account_event').on('webhook_deliveries').columns(['account_id', 'event_id']).execute();
    },
  };
}
