import type { CreateTableBuilder } from 'kysely';
import type { Dialect } from '../dialect.js';

/** An integer primary key the database numbers itself: the one column type SQLite and PostgreSQL spell differently. */
export function autoIncrementColumn<T extends string>(dialect: Dialect, table: CreateTableBuilder<T, never>, name: string) {
  return dialect === 'postgres'
    ? table.addColumn(name, 'bigserial', (c) => c.primaryKey())
    : table.addColumn(name, 'integer', (c) => c.primaryKey().autoIncrement());
}
