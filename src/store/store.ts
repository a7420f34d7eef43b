import fs from 'node:fs';
import path from 'node:path';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, type Migration, type MigrationProvider } from 'kysely';
import pg from 'pg';
import { collectEffects, runEffects } from './after-commit.js';
import { dialectOf, sqliteFileOf, type Dialect } from './dialect.js';
import { prepareSqliteFile, PRIVATE_FOLDER_MODE } from './private-files.js';
import { AccountWrites } from './account-writes.js';
import { BoundedInListsPlugin } from './bounded-in-lists.js';
import { openSqliteConnection } from './sqlite-connection.js';
import { LocalSignals, PostgresSignals, type Signals } from './signals.js';
import { GroupCommitWriter, type WriteOptions } from './group-commit.js';
import { WalCheckpointer } from './wal-checkpointer.js';
import { WalFlusher } from './wal-flusher.js';
import { allMigrations } from './migrations/index.js';
import type { Database } from './schema.js';

export type Tx = Kysely<Database>;

export interface StoreOptions {
  /** `FULL`: every commit is on disk before its write resolves (the default); `NORMAL` skips the flush (benchmarks that say so). */
  sqliteSynchronous?: 'FULL' | 'NORMAL';
  poolSize?: number;
  /** SQLite: checkpoint the WAL from a worker thread (default true; short-lived CLI commands need not). */
  backgroundCheckpoints?: boolean;
  /**
   * PostgreSQL: a transaction left waiting on this process this long (the process paused or cut
   * off mid-transaction) is ended by the server, so its row locks (a session lease held FOR SHARE
   * while an outcome is recorded, claimed outbox rows) cannot hold up the process taking over.
   */
  idleInTransactionTimeoutMs?: number;
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
    /** Notifications between the processes sharing the database, sent with a write. */
    readonly signals: Signals,
    private readonly accountWrites: AccountWrites,
    private readonly flusher?: WalFlusher,
    private readonly checkpointer?: WalCheckpointer,
  ) {
    this.writer = dialect === 'sqlite' ? new GroupCommitWriter(writeDb, flusher ? () => flusher.flush() : undefined) : undefined;
  }

  static open(databaseUrl: string, options: StoreOptions = {}): Store {
    const dialect = dialectOf(databaseUrl);
    if (dialect === 'postgres') {
      const accountWrites = new AccountWrites();
      const db = postgresPool(databaseUrl, options, accountWrites);
      const store = new Store('postgres', db, db, new PostgresSignals(databaseUrl), accountWrites);
      store.reopen = (size) => postgresPool(databaseUrl, { ...options, poolSize: size }, accountWrites);
      return store;
    }
    const file = sqliteFileOf(databaseUrl);
    if (file !== ':memory:') {
      fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true, mode: PRIVATE_FOLDER_MODE });
      prepareSqliteFile(path.resolve(file));
    }
    // FULL durability without a synchronous fsync on the event loop: see WalFlusher.
    const durable = (options.sqliteSynchronous ?? 'FULL') === 'FULL' && file !== ':memory:';
    const accountWrites = new AccountWrites();
    const open = () => {
      const conn = openSqliteConnection(file, [
        'journal_mode = WAL',
        'synchronous = NORMAL',
        // Checkpoints normally run in a worker (WalCheckpointer); this is only the backstop.
        'wal_autocheckpoint = 20000',
        'busy_timeout = 5000',
        'foreign_keys = ON',
      ]);
      return new Kysely<Database>({ dialect: new SqliteDialect({ database: conn }), plugins: [new BoundedInListsPlugin(), accountWrites] });
    };
    const writeDb = open();
    // A second connection so reads never queue behind a batch being written.
    const readDb = file === ':memory:' ? writeDb : open();
    const onDisk = file !== ':memory:';
    return new Store(
      'sqlite',
      readDb,
      writeDb,
      new LocalSignals(),
      accountWrites,
      durable ? new WalFlusher(`${path.resolve(file)}-wal`) : undefined,
      onDisk && options.backgroundCheckpoints !== false ? new WalCheckpointer(path.resolve(file)) : undefined,
    );
  }

  /** `fn` may run more than once (group commit): it keeps JavaScript side effects for afterCommit. */
  async write<T>(fn: (tx: Tx) => Promise<T>, options: WriteOptions = {}): Promise<T> {
    const before = this.accountWrites.version;
    try {
      if (this.writer) return await this.writer.write(fn, options);
      let effects: Array<() => void> = [];
      const value = await this.writeDb.transaction().execute((tx) => {
        effects = collectEffects(tx);
        return fn(tx);
      });
      runEffects(effects);
      return value;
    } finally {
      if (this.accountWrites.version !== before) this.accountWrites.version += 1;
    }
  }

  /**
   * PostgreSQL: one statement that is a whole write by itself, run outside any explicit transaction
   * (its own implicit one: one round trip, committed and flushed when it returns). SQLite has no
   * such statement for several tables; its writes share group commits (`write`).
   */
  async writeStatement<T>(fn: (db: Tx) => Promise<T>): Promise<T> {
    if (this.dialect !== 'postgres') throw new Error('writeStatement is for PostgreSQL; use write');
    return fn(this.writeDb);
  }

  /**
   * Changes each time this process updates accounts or API keys (see AccountWrites): what was
   * read from them under another version may be stale.
   */
  get accountsVersion(): number {
    return this.accountWrites.version;
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

  /** How to open another pool on the same database (PostgreSQL). */
  private reopen: ((size: number) => Kysely<Database>) | undefined;
  private readonly siblings: Store[] = [];

  /**
   * The same database through `size` connections of its own (PostgreSQL; SQLite's single writer
   * is shared as it is). For background workers: when requests' transactions hold every
   * connection of the main pool (waiting in turn on one account's row lock, say), the workers'
   * claims and outcomes still get through. Closed with this store.
   */
  withOwnConnections(size: number): Store {
    if (!this.reopen) return this;
    const db = this.reopen(size);
    const sibling = new Store(this.dialect, db, db, this.signals, this.accountWrites);
    this.siblings.push(sibling);
    return sibling;
  }

  async close(): Promise<void> {
    for (const sibling of this.siblings.splice(0)) await sibling.writeDb.destroy();
    await this.signals.close();
    await this.checkpointer?.close();
    await this.writeDb.destroy();
    await this.flusher?.close();
    if (this.db !== this.writeDb) await this.db.destroy();
  }
}

function postgresPool(databaseUrl: string, options: StoreOptions, accountWrites: AccountWrites): Kysely<Database> {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.poolSize ?? 20,
    ...(options.idleInTransactionTimeoutMs !== undefined ? { idle_in_transaction_session_timeout: options.idleInTransactionTimeoutMs } : {}),
  });
  // An idle connection the server closed (restart, failover) is dropped by the pool; that is not fatal.
  pool.on('error', () => undefined);
  // Nor is one it ends while in use (idle-in-transaction timeout, pg_terminate_backend): the
  // query in flight, or the next, fails with the reason, and the pool discards the connection.
  // Without a listener the client's 'error' event would end the process.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }), plugins: [accountWrites] });
}
