import type { Store, Tx } from '../store/store.js';

/** Appends to an account's event log, announced to the other processes (payload: the account id). */
const EVENT_LOG = 'mapi_event_log';

/**
 * Wakes the long-polls waiting on an account's event log when it grows: this process's appends
 * directly, another process's (PostgreSQL) through its announcement (`announceEventLog`). A wake
 * may come before the append commits, and an announcement may be lost, so a waiter also reads
 * again on a bounded interval: never a tight loop, never a missed event.
 */
export class EventLogWaiters {
  private readonly waiting = new Map<string, Set<(woken: boolean) => void>>();
  private stopListening: (() => void) | undefined;

  /** Hears the appends of the other processes sharing the database (PostgreSQL only). */
  async listen(store: Store): Promise<void> {
    if (store.dialect !== 'postgres' || this.stopListening) return;
    this.stopListening = await store.signals.listen(EVENT_LOG, (accountId) => this.notify(accountId));
  }

  stopListeningElsewhere(): void {
    this.stopListening?.();
    this.stopListening = undefined;
  }

  /** Resolves `true` when the account's log may have grown, `false` after `ms` at the latest. */
  wait(accountId: string, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const set = this.waiting.get(accountId) ?? new Set<(woken: boolean) => void>();
      this.waiting.set(accountId, set);
      const done = (woken: boolean) => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0 && this.waiting.get(accountId) === set) this.waiting.delete(accountId);
        resolve(woken);
      };
      const timer = setTimeout(() => done(false), ms);
      set.add(done);
    });
  }

  notify(accountId: string): void {
    for (const wake of [...(this.waiting.get(accountId) ?? [])]) wake(true);
  }
}

/** In the transaction that appends to the account's log: tells the other processes (PostgreSQL). */
export async function announceEventLog(store: Store, tx: Tx, accountId: string): Promise<void> {
  if (store.dialect === 'postgres') await store.signals.notify(tx, EVENT_LOG, accountId);
}
