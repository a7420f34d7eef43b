/**
 * Wakes the long-polls waiting on an account's event log when this process appends to it. A wake
 * may come before the append commits, and another process's appends wake nobody here, so a waiter
 * also reads again on a bounded interval: never a tight loop, never a missed event.
 */
export class EventLogWaiters {
  private readonly waiting = new Map<string, Set<(woken: boolean) => void>>();

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
