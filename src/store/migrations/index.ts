import type { Migration } from 'kysely';
import type { Dialect } from '../dialect.js';
import { coreMigration } from './001-core.js';

/** Every migration in order. Add new ones at the end with the next number; never edit a released one. */
export function allMigrations(dialect: Dialect): Record<string, Migration> {
  return {
    '001-core': coreMigration(dialect),
  };
}
