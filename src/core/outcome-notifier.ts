export type MessageOutcome = { status: 'sent' } | { status: 'failed'; error: string };

/** Lets a send request wait for its message's outcome; only committed outcomes are announced. */
export class OutcomeNotifier {
  private readonly waiters = new Map<string, Set<(outcome: MessageOutcome) => void>>();

  wait(messageId: string, timeoutMs: number): Promise<MessageOutcome | null> {
    if (timeoutMs <= 0) return Promise.resolve(null);
    return new Promise((resolve) => {
      let set = this.waiters.get(messageId);
      if (!set) this.waiters.set(messageId, (set = new Set()));
      const done = (outcome: MessageOutcome | null) => {
        clearTimeout(timer);
        set!.delete(listener);
        if (set!.size === 0) this.waiters.delete(messageId);
        resolve(outcome);
      };
      const listener = (outcome: MessageOutcome) => done(outcome);
      const timer = setTimeout(() => done(null), timeoutMs);
      set.add(listener);
    });
  }

  notify(messageId: string, outcome: MessageOutcome): void {
    const set = this.waiters.get(messageId);
    if (!set) return;
    for (const listener of [...set]) listener(outcome);
  }
}
