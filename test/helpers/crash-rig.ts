import type { Dialect } from '../../src/store/dialect.js';
import { Store } from '../../src/store/store.js';
import { createTestDatabase, type TestDatabase } from './databases.js';
import { startServerProcess, type ServerProcess } from './server-process.js';

/**
 * What a crash test starts — its database, `messageapi serve` processes, and stores it reads the
 * database through — so that `close()` kills, closes and drops all of it, whatever the test reached.
 */
export class CrashRig {
  private database: TestDatabase | undefined;
  private readonly servers: ServerProcess[] = [];
  private readonly stores: Store[] = [];

  constructor(private readonly dialect: Dialect) {}

  /** Creates the database and returns the environment a server on it runs with (sandbox driver, short outbox lock). */
  async create(extra: Record<string, string> = {}): Promise<Record<string, string>> {
    this.database = await createTestDatabase(this.dialect);
    return { DATA_DIR: this.database.dataDir, DATABASE_URL: this.database.url, WHATSAPP_DRIVER: 'sandbox', OUTBOX_LOCK_MS: '1500', LOG_LEVEL: 'info', ...extra };
  }

  async start(env: Record<string, string>): Promise<ServerProcess> {
    const server = await startServerProcess(env);
    this.servers.push(server);
    return server;
  }

  /** A store on the test's database, beside the servers, to look at what they wrote. */
  open(): Store {
    if (!this.database) throw new Error('create() the database first');
    const store = Store.open(this.database.url);
    this.stores.push(store);
    return store;
  }

  async close(): Promise<void> {
    for (const s of this.servers) await s.kill('SIGKILL');
    for (const s of this.stores) await s.close();
    await this.database?.drop();
  }
}

/** Every message id the sandbox's record lists for an account, read through the public API page by page. */
export async function listedSandboxSends(serverUrl: string, apiKey: string): Promise<string[]> {
  const listed: string[] = [];
  let cursor: string | null = null;
  do {
    const page = (await (await fetch(`${serverUrl}/api/v1/sandbox/sends?limit=1000${cursor ? `&cursor=${cursor}` : ''}`, { headers: { 'x-api-key': apiKey } })).json()) as {
      sends: Array<{ messageId: string }>;
      nextCursor: string | null;
    };
    listed.push(...page.sends.map((s) => s.messageId));
    cursor = page.nextCursor;
  } while (cursor);
  return listed;
}

/** Waits until no message in the database is pending any more: a restart must settle them all within a minute. */
export async function untilNonePending(store: Store): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const left = await store.db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'pending').executeTakeFirstOrThrow();
    if (Number(left.n) === 0) return;
    if (Date.now() > deadline) throw new Error(`${left.n} messages still pending a minute after restart`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
