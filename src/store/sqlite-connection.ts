import BetterSqlite3 from 'better-sqlite3';

/**
 * Every better-sqlite3 object this process creates stays reachable until the process ends.
 *
 * Why: on Node ≥ 24.19 an addon built against that Node's headers (better-sqlite3 12 is) registers
 * an environment cleanup hook per native object and removes it in the object's destructor, which
 * aborts the process (`RemoveEnvironmentCleanupHook`, `Assertion failed: (env) != nullptr`) when
 * the garbage collector destroys the object outside a JavaScript context — any GC, not only at
 * exit (a loop preparing 20,000 statements aborted 3 runs of 3). Objects that are never garbage
 * are only destroyed by Node's own cleanup at exit, inside a context, where that is safe. Node 20
 * and 22 do not have the hook; they keep the objects too (one code path, tested on 20 and 24).
 */
const retained: unknown[] = [];

export function retain<T>(value: T): T {
  retained.push(value);
  return value;
}

/** The part of better-sqlite3 Kysely's SqliteDialect uses. */
export interface CachedSqliteConnection {
  prepare(sql: string): BetterSqlite3.Statement;
  close(): void;
}

/**
 * A connection whose `pragmas` are set with `exec` (`db.pragma()` prepares a statement each call)
 * and whose statements are cached by SQL text and never dropped (see `retained`). Kysely prepares
 * every query anew, and preparing costs more than running most of ours; better-sqlite3 statements
 * are reusable, and this connection runs one statement at a time. The cache holds one statement
 * per distinct SQL text, which our query shapes bound: about 2.5 KB for a short query; `in` lists
 * are padded to a power of two (bounded-in-lists.ts), as one text per length had held 117 MB for
 * an update run with every length from 1 to 1,000. Evicting would make garbage; a closed connection's statements would still cost ~700 bytes
 * each, so reopening the connection to free them would leak on a busy server.
 */
export function openSqliteConnection(file: string, pragmas: readonly string[]): CachedSqliteConnection {
  const conn = retain(new BetterSqlite3(file));
  for (const pragma of pragmas) conn.exec(`PRAGMA ${pragma}`);
  const cache = retain(new Map<string, BetterSqlite3.Statement>());
  return {
    close: () => conn.close(),
    prepare(sql: string) {
      let statement = cache.get(sql);
      if (!statement) {
        statement = conn.prepare(sql);
        cache.set(sql, statement);
      }
      return statement;
    },
  };
}
