export type Dialect = 'sqlite' | 'postgres';

export function dialectOf(databaseUrl: string): Dialect {
  return /^postgres(ql)?:/.test(databaseUrl) ? 'postgres' : 'sqlite';
}

/** The SQLite file a (non-PostgreSQL) database URL names, as written (`sqlite:`, `sqlite://` or a bare path), or `:memory:`. */
export function sqliteFileOf(databaseUrl: string): string {
  return databaseUrl.replace(/^sqlite:(\/\/)?/, '');
}
