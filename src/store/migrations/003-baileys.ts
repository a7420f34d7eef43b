import type { Kysely } from 'kysely';
import type { Dialect } from '../dialect.js';

/** Tables for the Baileys driver (auth state, session leases). */
export function baileysMigration(_dialect: Dialect) {
  return {
    async up(_db: Kysely<any>): Promise<void> {},
  };
}
