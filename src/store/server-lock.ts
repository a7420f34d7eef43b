import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { dialectOf, sqliteFileOf } from './dialect.js';
import { prepareSqliteFile, PRIVATE_FOLDER_MODE } from './private-files.js';
import { retain } from './sqlite-connection.js';

export class ServerAlreadyRunningError extends Error {}

/** Lock connections by file, kept for the process's life (see `retain`), reused by a later lock. */
const held = retain(new Map<string, BetterSqlite3.Database>());

export interface ServerLock {
  release(): void;
}

/**
 * On SQLite one server serves a database (several share a PostgreSQL). A second one started on the
 * same file would, before anything else, hand back the first one's claims on messages and open its
 * WhatsApp sessions (WhatsApp keeps one connection per device: the first server's are replaced), and
 * only then find its port taken. So `serve` holds this lock first: an exclusive SQLite lock on a
 * file beside the database, for the life of the server. The operating system drops it when the
 * process ends, however it ends, so it never goes stale; the CLI's other commands do not take it.
 */
export function holdServerLock(databaseUrl: string): ServerLock {
  if (dialectOf(databaseUrl) === 'postgres' || sqliteFileOf(databaseUrl) === ':memory:') return { release: () => undefined };
  const file = path.resolve(sqliteFileOf(databaseUrl));
  const lockFile = `${file}-server.lock`;
  fs.mkdirSync(path.dirname(lockFile), { recursive: true, mode: PRIVATE_FOLDER_MODE });
  prepareSqliteFile(lockFile);
  let db = held.get(lockFile);
  if (!db) held.set(lockFile, (db = new BetterSqlite3(lockFile, { timeout: 0 })));
  const taken = () =>
    new ServerAlreadyRunningError(
      `Another MessageAPI server is already running on this database (${file}). Stop it first (or use that one). ` +
        'One server serves a SQLite database; to run several, point them all at one PostgreSQL (DATABASE_URL=postgres://…).',
    );
  // A server in this very process holds it (SQLite shares a process's locks among its connections).
  if (db.inTransaction) throw taken();
  try {
    db.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    if ((error as { code?: string }).code === 'SQLITE_BUSY') throw taken();
    throw error;
  }
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      db.exec('COMMIT');
    },
  };
}
