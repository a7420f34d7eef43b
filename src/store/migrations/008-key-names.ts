import type { Kysely } from 'kysely';
import type { Dialect } from '../dialect.js';

/** API keys get an optional name ("shop server", "Sheets"), so an account with several can tell them apart. */
export function keyNamesMigration(_dialect: Dialect) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('api_keys').addColumn('name', 'text').execute();
    },
  };
}
