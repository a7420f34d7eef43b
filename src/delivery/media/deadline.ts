/** One overall time limit for a whole download: DNS, every redirect, headers and body. */
export class Deadline {
  readonly signal: AbortSignal;
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private readonly abortedPromise: Promise<never>;
  expired = false;

  constructor(ms: number) {
    this.signal = this.controller.signal;
    this.timer = setTimeout(() => {
      this.expired = true;
      this.controller.abort(new Error('deadline expired'));
    }, ms);
    this.abortedPromise = new Promise<never>((_, reject) => {
      this.signal.addEventListener('abort', () => reject(this.signal.reason), { once: true });
    });
    // Nobody may be racing yet; an unhandled rejection would crash the process.
    this.abortedPromise.catch(() => {});
  }

  /** Settles with `work`, or rejects when the deadline passes first (for work that takes no signal). */
  race<T>(work: Promise<T>): Promise<T> {
    return Promise.race([work, this.abortedPromise]);
  }

  clear(): void {
    clearTimeout(this.timer);
  }
}
