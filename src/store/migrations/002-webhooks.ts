import type { Kysely } from 'kysely';
import type { Dialect } from '../dialect.js';

/** Tables for webhooks and e-mail (delivery log, settings). */
export function webhooksMigration(_dialect: Dialect) {
  return {
    async up(_db: Kysely<any>): Promise<void> {},
  };
}
