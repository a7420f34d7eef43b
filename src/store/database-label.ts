import path from 'node:path';
import { dialectOf, sqliteFileOf } from './dialect.js';

/**
 * Which database a URL points at, for people: the SQLite file's absolute path, or the PostgreSQL
 * server and database without the password. Said by every CLI command and at each start, so an
 * operator with two data folders sees which one was touched.
 */
export function databaseLabel(databaseUrl: string): string {
  if (dialectOf(databaseUrl) === 'sqlite') {
    const file = sqliteFileOf(databaseUrl);
    return `SQLite ${file === ':memory:' ? file : path.resolve(file)}`;
  }
  try {
    const url = new URL(databaseUrl);
    const user = url.username ? `${decodeURIComponent(url.username)}@` : '';
    return `PostgreSQL ${user}${url.host}${url.pathname}`;
  } catch {
    return 'PostgreSQL (DATABASE_URL is not a valid URL)';
  }
}
