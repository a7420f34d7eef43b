import type { Store } from '../../store/store.js';
import { coerceError } from '../errors.js';
import type { EventRecorder } from '../events.js';
import { liftLapsedTimelocks, nextTimelockEnd } from './timelock-lapse.js';

/** Looks again at least this often: another process may have stored a timelock (PostgreSQL). */
const RECHECK_MS = 5 * 60_000;

/**
 * Wakes when the next stored timelock runs out and lifts it (timelock-lapse.ts). The ends live in
 * the database, so nothing is lost with the process: a start sweeps what ran out meanwhile. Told
 * of every restriction this process records (`changed`), so a new end is waited for at once.
 */
export class TimelockWatch {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private checking: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly events: EventRecorder,
    private readonly clock: () => number,
    /** Told when a sweep fails (it is tried again at the next wake). */
    private readonly onError: (error: Error) => void,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.changed();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.checking;
  }

  /** A restriction was recorded: sweep, then wait for the (maybe new) next end. */
  changed(): void {
    if (!this.running) return;
    this.checking = this.checking.then(() => this.check());
  }

  private async check(): Promise<void> {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    let next: number | null = null;
    try {
      await liftLapsedTimelocks(this.store, this.events, this.clock());
      next = await nextTimelockEnd(this.store.db);
    } catch (error) {
      this.onError(coerceError(error));
    }
    if (!this.running) return;
    // An end already past here was not lifted (a failed or lost sweep): tried again in a second, not in a loop.
    const wait = next === null ? RECHECK_MS : next - this.clock();
    const delay = Math.min(RECHECK_MS, wait > 0 ? wait + 1 : 1_000);
    this.timer = setTimeout(() => this.changed(), delay);
    this.timer.unref();
  }
}
