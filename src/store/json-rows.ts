import { PostgresAdapter, sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from './schema.js';

export type JsonColumnType = 'text' | 'bigint' | 'integer';

/**
 * Many rows as one statement parameter: a table the database builds from a JSON array, to select
 * from (`insert … select`, `update … from`). A batch of any size is then one statement with one
 * SQL text: one round trip on PostgreSQL, one cached prepared statement on SQLite, and no query
 * builder work per row. Column names are ours (checked), values travel only inside the JSON.
 */
export function jsonRows(db: Kysely<Database>, columns: Record<string, JsonColumnType>, rows: ReadonlyArray<Record<string, unknown>>, alias = 'x'): RawBuilder<unknown> {
  const names = Object.keys(columns);
  for (const name of [...names, alias]) if (!/^[a-z_]+$/.test(name)) throw new Error(`jsonRows: bad name ${name}`);
  const json = JSON.stringify(rows.map((row) => names.map((n) => row[n] ?? null)));
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    // Positional arrays rather than objects: the keys are not repeated in every row.
    const fields = names.map((n, i) => `(r ->> ${i})::${columns[n]} as ${n}`).join(', ');
    return sql`(select ${sql.raw(fields)} from json_array_elements(${json}::json) as r) as ${sql.raw(alias)}`;
  }
  const fields = names.map((n, i) => `value ->> ${i} as ${n}`).join(', ');
  return sql`(select ${sql.raw(fields)} from json_each(${json})) as ${sql.raw(alias)}`;
}
