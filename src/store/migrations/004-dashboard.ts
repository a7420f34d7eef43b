import type { Kysely } from 'kysely';
import type { Dialect } from '../dialect.js';

/** Tables for the dashboard (passwords, browser sessions). */
export function dashboardMigration(_dialect: Dialect) {
  return {
    async up(_db: Kysely<any>): Promise<void> {},
  };
}
