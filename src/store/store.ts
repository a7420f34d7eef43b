import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, type Migration, type MigrationProvider } from 'kysely';
import pg from 'pg';
import { collectEffects, runEffects } from './after-commit.js';
import { dialectOf, type Dialect } from './dialect.js';
import { prepareSqliteFile, PRIVATE_FOLDER_MODE } from './private-files.js';
import { GroupCommitWriter, type WriteOptions } from './group-commit.js';
import { WalCheckpointer } from './wal-checkpointer.js';
import { WalFlusher } from './wal-flusher.js';
import { allMigrations } from './migrations/index.js';
import type { Database } from './schema.js';

export type Tx = Kysely<Database>;

const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely prepares every query anew; preparing costs more than running most of ours. The same SQL
 * text gets the same prepared statement back (better-sqlite3 statements are reusable, and this
 * connection runs one statement at a time).
 */
function withStatementCache(conn: BetterSqlite3.Database) {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => conn.close(),
    prepare(sql: string) {
      let statement = cache.get(sql);
      if (!statement) {
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
        statement = conn.prepare(sql);
        cache.set(sql, statement);
      }
      return statement;
    },
  };
}

export interface StoreOptions {
  /** `FULL`: every commit is on disk before its write resolves (the default); `NORMAL` skips the flush (benchmarks that say so). */
  sqliteSynchronous?: 'FULL' | 'NORMAL';
  poolSize?: number;
  /** SQLite: checkpoint the WAL from a worker thread (default true; short-lived CLI commands need not). */
  backgroundCheckpoints?: boolean;
}

// PostgreSQL returns BIGINT as text; every BIGINT here (epoch ms, counters) fits a JS number.
pg.types.setTypeParser(20, (value) => Number(value));

/**
 * The one way into the database. `db` is for reads; `write` runs a function in a transaction.
 * On SQLite concurrent writes share one transaction and one fsync (group commit); on PostgreSQL
 * each write is its own transaction and the server groups the flushes.
 */
export class Store {
  private readonly writer: GroupCommitWriter | undefined;

  private constructor(
    readonly dialect: Dialect,
    readonly db: Kysely<Database>,
    private readonly writeDb: Kysely<Database>,
    private readonly flusher?: WalFlusher,
    private readonly checkpointer?: WalCheckpointer,
  ) {
    this.writer = dialect === 'sqlite' ? new GroupCommitWriter(writeDb, flusher ? () => flusher.flush() : undefined) : undefined;
  }

  static open(databaseUrl: string, options: StoreOptions = {}): Store {
    const dialect = dialectOf(databaseUrl);
    if (dialect === 'postgres') {
      const pool = new pg.Pool({ connectionString: databaseUrl, max: options.poolSize ?? 20 });
      // An idle connection the server closed (restart, failover) is dropped by the pool; that is not fatal.
      pool.on('error', () => undefined);
      const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
      return new Store('postgres', db, db);
    }
    const file = databaseUrl.replace(/^sqlite:(\/\/)?/, '');
    if (file !== ':memory:') {
      fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true, mode: PRIVATE_FOLDER_MODE });
      prepareSqliteFile(path.resolve(file));
    }
    // FULL durability without a synchronous fsync on the event loop: see WalFlusher.
    const durable = (options.sqliteSynchronous ?? 'FULL') === 'FULL' && file !== ':memory:';
    const open = () => {
      const conn = new BetterSqlite3(file);
      conn.pragma('journal_mode = WAL');
      conn.pragma('synchronous = NORMAL');
      // Checkpoints normally run in a worker (WalCheckpointer); this is only the backstop.
      conn.pragma('wal_autocheckpoint = 20000');
      conn.pragma('busy_timeout = 5000');
      conn.pragma('foreign_keys = ON');
      return new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(conn) }) });
    };
    const writeDb = open();
    // A second connection so reads never queue behind a batch being written.
    const readDb = file === ':memory:' ? writeDb : open();
    const onDisk = file !== ':memory:';
    return new Store(
      'sqlite',
      readDb,
      writeDb,
      durable ? new WalFlusher(`${path.resolve(file)}-wal`) : undefined,
      onDisk && options.backgroundCheckpoints !== false ? new WalCheckpointer(path.resolve(file)) : undefined,
    );
  }

  /** `fn` may run more than once (group commit): it keeps JavaScript side effects for afterCommit. */
  async write<T>(fn: (tx: Tx) => Promise<T>, options: WriteOptions = {}): Promise<T> {
    if (this.writer) return this.writer.write(fn, options);
    let effects: Array<() => void> = [];
    const value = await this.writeDb.transaction().execute((tx) => {
      effects = collectEffects(tx);
      return fn(tx);
    });
    runEffects(effects);
    return value;
  }

  /** Row lock for the rest of the transaction on PostgreSQL; SQLite already has a single writer. */
  get locksRows(): boolean {
    return this.dialect === 'postgres';
  }

  async migrate(): Promise<void> {
    const migrations = allMigrations(this.dialect);
    const provider: MigrationProvider = { getMigrations: async (): Promise<Record<string, Migration>> => migrations };
    const migrator = new Migrator({ db: this.writeDb, provider });
    const { error, results } = await migrator.migrateToLatest();
    if (error) {
      const failed = results?.find((r) => r.status === 'Error');
      throw new Error(`Migration ${failed?.migrationName ?? ''} failed: ${String((error as Error).message ?? error)}`);
    }
  }

  async pendingMigrations(): Promise<number> {
    const provider: MigrationProvider = { getMigrations: async () => allMigrations(this.dialect) };
    const list = await new Migrator({ db: this.db, provider }).getMigrations();
    return list.filter((m) => m.executedAt === undefined).length;
  }

  async close(): Promise<void> {
    await this.checkpointer?.close();
    await this.writeDb.destroy();
    await this.flusher?.close();
    if (this.db !== this.writeDb) await this.db.destroy();
  }
}
