import { randomBytes } from 'node:crypto';
import type { Store, Tx } from '../store/store.js';

export type MessageOutcome = { status: 'sent' } | { status: 'failed'; error: string };

/** Outcomes recorded in any process are announced here (payload: `<origin>:<message ids, comma-separated>`). */
const OUTCOMES = 'mapi_outcomes';
const IDS_PER_SIGNAL = 150;
/** An announcement lost on the way costs at most this: a waiter reads its message again this often. */
const RECHECK_MS = 2_000;

/**
 * Lets a send request wait for its message's outcome; only committed outcomes are announced. The
 * process that records an outcome wakes its own waiters directly (`notify`); on PostgreSQL it
 * also announces it (`announce`), and a waiter in another process then reads the outcome from the
 * message itself.
 */
export class OutcomeNotifier {
  private readonly waiters = new Map<string, Set<(outcome: MessageOutcome) => void>>();
  private stopListening: (() => void) | undefined;
  /** Names this process's announcements: its own waiters were woken directly, so it skips them. */
  private readonly origin = randomBytes(6).toString('hex');

  constructor(
    private readonly store?: Store,
    private readonly recheckMs = RECHECK_MS,
  ) {}

  /** Hears outcomes recorded by the other processes sharing the database (PostgreSQL). */
  async start(): Promise<void> {
    if (!this.store || this.store.dialect !== 'postgres' || this.stopListening) return;
    this.stopListening = await this.store.signals.listen(OUTCOMES, (payload) => {
      const [origin, ids = ''] = payload.split(':', 2);
      if (origin === this.origin) return;
      for (const id of ids.split(',')) if (this.waiters.has(id)) void this.readOutcome(id);
    });
  }

  stop(): void {
    this.stopListening?.();
    this.stopListening = undefined;
  }

  wait(messageId: string, timeoutMs: number): Promise<MessageOutcome | null> {
    if (timeoutMs <= 0) return Promise.resolve(null);
    return new Promise((resolve) => {
      let set = this.waiters.get(messageId);
      if (!set) this.waiters.set(messageId, (set = new Set()));
      const done = (outcome: MessageOutcome | null) => {
        clearTimeout(timer);
        clearInterval(recheck);
        set!.delete(listener);
        if (set!.size === 0) this.waiters.delete(messageId);
        resolve(outcome);
      };
      const listener = (outcome: MessageOutcome) => done(outcome);
      const timer = setTimeout(() => done(null), timeoutMs);
      const recheck = this.stopListening ? setInterval(() => void this.readOutcome(messageId), this.recheckMs) : undefined;
      set.add(listener);
    });
  }

  /**
   * In the transaction that records the outcomes: tells the other processes (PostgreSQL), whose
   * waiters read them once it commits. This process's own waiters are woken by `notify` after the
   * commit; SQLite is one process, so that wakes everyone.
   */
  async announce(tx: Tx, messageIds: string[]): Promise<void> {
    if (!this.store || this.store.dialect !== 'postgres') return;
    for (let i = 0; i < messageIds.length; i += IDS_PER_SIGNAL) {
      await this.store.signals.notify(tx, OUTCOMES, `${this.origin}:${messageIds.slice(i, i + IDS_PER_SIGNAL).join(',')}`);
    }
  }

  notify(messageId: string, outcome: MessageOutcome): void {
    const set = this.waiters.get(messageId);
    if (!set) return;
    for (const listener of [...set]) listener(outcome);
  }

  private async readOutcome(messageId: string): Promise<void> {
    const row = await this.store!.db.selectFrom('messages').select(['status', 'error']).where('id', '=', messageId).executeTakeFirst().catch(() => undefined);
    if (row?.status === 'sent') this.notify(messageId, { status: 'sent' });
    else if (row?.status === 'failed') this.notify(messageId, { status: 'failed', error: row.error ?? 'unknown error' });
  }
}

