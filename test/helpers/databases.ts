import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, inject } from 'vitest';
import { createAccount } from '../../src/core/accounts.js';
import type { Dialect } from '../../src/store/dialect.js';
import { Store } from '../../src/store/store.js';

export { testDialects } from './dialects.js';

export interface TestDatabase {
  url: string;
  /** A folder for DATA_DIR (secret key, SQLite file). */
  dataDir: string;
  drop(): Promise<void>;
}

/** A database of its own for one test file or test: a fresh SQLite file, or a fresh PostgreSQL database. */
export async function createTestDatabase(dialect: Dialect): Promise<TestDatabase> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'messageapi-test-'));
  if (dialect === 'sqlite') {
    return {
      url: `sqlite:${path.join(dataDir, 'messageapi.db')}`,
      dataDir,
      drop: async () => fs.rmSync(dataDir, { recursive: true, force: true }),
    };
  }
  const base = inject('postgresUrl');
  if (!base) throw new Error('PostgreSQL tests need a server: set TEST_DATABASE_URL or let the global setup start one.');
  const name = `messageapi_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    dataDir,
    drop: async () => {
      const client = new pg.Client({ connectionString: base });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Accounts made in the database as `messageapi accounts create` makes them, migrating it first as the
 * command does (test/cli/cli.test.ts runs the command itself): for tests that need accounts beside
 * their server processes, without a CLI process for each.
 */
export async function createStoredAccounts(databaseUrl: string, emails: string[], plan = 'unlimited'): Promise<Array<{ id: string; apiKey: string }>> {
  const store = Store.open(databaseUrl, { backgroundCheckpoints: false });
  try {
    await store.migrate();
    const made: Array<{ id: string; apiKey: string }> = [];
    for (const email of emails) {
      const { id, apiKey } = await createAccount(store, { email, plan }, Date.now());
      made.push({ id, apiKey });
    }
    return made;
  } finally {
    await store.close();
  }
}

/** A migrated store on a database of its own, for tests below the HTTP surface; call `close` after. */
export async function openTestStore(dialect: Dialect): Promise<{ store: Store; database: TestDatabase; close(): Promise<void> }> {
  const database = await createTestDatabase(dialect);
  const store = Store.open(database.url);
  await store.migrate();
  return {
    store,
    database,
    close: async () => {
      await store.close();
      await database.drop();
    },
  };
}

/**
 * `openTestStore` for the describe block it is called in: opened before its tests (then handed to
 * `onOpen`), closed and dropped after them. Its `store` and `database` are there once they start.
 */
export function useTestStore(dialect: Dialect, onOpen?: (store: Store) => void): { readonly store: Store; readonly database: TestDatabase } {
  let opened: Awaited<ReturnType<typeof openTestStore>> | undefined;
  beforeAll(async () => {
    opened = await openTestStore(dialect);
    onOpen?.(opened.store);
  });
  afterAll(() => opened?.close());
  return {
    get store() {
      return opened!.store;
    },
    get database() {
      return opened!.database;
    },
  };
}
