import { AppError } from '../core/errors.js';

/**
 * How many live streams each account holds open in this process: taking one beyond the cap is a
 * 429, and every slot taken is given back exactly once.
 */
export class StreamSlots {
  private readonly open = new Map<string, number>();

  constructor(private readonly perAccount: number) {}

  /** Takes a slot for the account and returns its release, or throws 429 `too_many_requests`. */
  take(accountId: string): () => void {
    const count = this.open.get(accountId) ?? 0;
    if (count >= this.perAccount) {
      throw new AppError('too_many_requests', `Too many live streams: an account may keep ${this.perAccount} open at once. Close one and try again.`, {
        retryAfterSeconds: 5,
      });
    }
    this.open.set(accountId, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(accountId) ?? 1) - 1;
      if (left > 0) this.open.set(accountId, left);
      else this.open.delete(accountId);
    };
  }
}
