import { EventEmitter } from 'node:events';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { afterCommit } from './after-commit.js';
import type { Database } from './schema.js';

export type SignalHandler = (payload: string) => void;

/**
 * Short messages between the processes that share the database, sent with a write: a signal is
 * seen only once the transaction that sent it has committed, and never if it rolled back.
 * PostgreSQL: `pg_notify` in the transaction, received over one LISTEN connection per process
 * (every process, the sender included, gets it). SQLite has one process: an in-process emitter,
 * fired after the commit. Signals may be lost (a LISTEN connection that drops and comes back), so
 * whoever waits on one also re-checks on a slow interval.
 */
export interface Signals {
  /** `channel`: letters, digits and `_` only; `payload`: at most ~7,900 bytes. */
  notify(tx: Kysely<Database>, channel: string, payload: string): Promise<void>;
  /** Answers a function that stops listening. */
  listen(channel: string, handler: SignalHandler): Promise<() => void>;
  close(): Promise<void>;
}

const CHANNEL = /^[a-z0-9_]{1,63}$/;

function checkChannel(channel: string): void {
  if (!CHANNEL.test(channel)) throw new Error(`not a signal channel name: ${channel}`);
}

/** A name safe as a channel for any string (a process id): lower-case letters, digits and `_`. */
export function channelName(prefix: string, id: string): string {
  return `${prefix}_${id.toLowerCase().replace(/[^a-z0-9]/g, '_')}`.slice(0, 63);
}

export class LocalSignals implements Signals {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  async notify(tx: Kysely<Database>, channel: string, payload: string): Promise<void> {
    checkChannel(channel);
    afterCommit(tx, () => this.emitter.emit(channel, payload));
  }

  async listen(channel: string, handler: SignalHandler): Promise<() => void> {
    checkChannel(channel);
    this.emitter.on(channel, handler);
    return () => this.emitter.off(channel, handler);
  }

  async close(): Promise<void> {
    this.emitter.removeAllListeners();
  }
}

const RECONNECT_MS = 1_000;

/**
 * One dedicated connection per process LISTENs on every channel someone here listens to. When it
 * drops it is opened again (after a second) and LISTENs again; what was sent in between is lost,
 * which the waiters' slow re-checks cover.
 */
export class PostgresSignals implements Signals {
  private readonly handlers = new Map<string, Set<SignalHandler>>();
  private client: pg.Client | undefined;
  private connecting: Promise<pg.Client> | undefined;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;
  /** The LISTEN connection runs one statement at a time. */
  private statements: Promise<unknown> = Promise.resolve();

  constructor(private readonly connectionString: string) {}

  async notify(tx: Kysely<Database>, channel: string, payload: string): Promise<void> {
    checkChannel(channel);
    await sql`select pg_notify(${channel}, ${payload})`.execute(tx);
  }

  async listen(channel: string, handler: SignalHandler): Promise<() => void> {
    checkChannel(channel);
    let set = this.handlers.get(channel);
    if (!set) {
      this.handlers.set(channel, (set = new Set()));
      const client = await this.connection();
      await this.run(client, `LISTEN ${channel}`);
    }
    set.add(handler);
    return () => {
      const current = this.handlers.get(channel);
      current?.delete(handler);
      if (current && current.size === 0) {
        this.handlers.delete(channel);
        if (this.client) void this.run(this.client, `UNLISTEN ${channel}`).catch(() => undefined);
      }
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    this.handlers.clear();
    const client = this.client ?? (await this.connecting?.catch(() => undefined));
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private connection(): Promise<pg.Client> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= this.open().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async open(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: this.connectionString });
    client.on('notification', (message) => {
      for (const handler of [...(this.handlers.get(message.channel) ?? [])]) {
        try {
          handler(message.payload ?? '');
        } catch (error) {
          process.emitWarning(`a signal handler threw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        }
      }
    });
    client.on('error', () => this.dropped(client));
    client.on('end', () => this.dropped(client));
    await client.connect();
    if (this.closed) {
      await client.end().catch(() => undefined);
      throw new Error('signals closed');
    }
    for (const channel of this.handlers.keys()) await this.run(client, `LISTEN ${channel}`);
    this.client = client;
    return client;
  }

  private run(client: pg.Client, statement: string): Promise<unknown> {
    const next = this.statements.catch(() => undefined).then(() => client.query(statement));
    this.statements = next;
    return next;
  }

  private dropped(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    void client.end().catch(() => undefined);
    this.reconnectLater();
  }

  private reconnectLater(): void {
    if (this.closed || this.handlers.size === 0 || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      if (!this.closed) this.connection().catch(() => this.reconnectLater());
    }, RECONNECT_MS);
    this.retry.unref();
  }
}
