export interface RefusalDelayOptions {
  /** A refusal goes out no sooner than this after it was decided. */
  readonly delayMs: number;
  /** At most this many refusals go out per second, all clients together, in the order they were decided. */
  readonly perSecond: number;
  /** At most this many are held at once (memory stays bounded); beyond, a refusal goes out at once. */
  readonly heldMax: number;
}

/**
 * Holds back refused sign-ins. An attacker keeps N sign-ins in flight and sends the next the moment
 * one is answered, so answering refusals late and in single file bounds the rate of the whole
 * flood — and the server's work for it — to `perSecond`, whatever N (up to `heldMax`). A held
 * answer costs a place in a queue and its open request; one timer paces the queue. On shutdown
 * every held answer goes out at once.
 */
export class RefusalDelay {
  private readonly queue: Array<{ due: number; go: () => void }> = [];
  private timer: NodeJS.Timeout | undefined;
  /** The earliest time the next refusal may go out. */
  private nextSlot = 0;

  constructor(private readonly options: RefusalDelayOptions) {}

  /** Resolves when this refusal's turn comes; at once when nothing is to be held, or `heldMax` already are. */
  wait(): Promise<void> {
    if ((this.options.delayMs <= 0 && this.options.perSecond <= 0) || this.queue.length >= this.options.heldMax) return Promise.resolve();
    return new Promise((go) => {
      this.queue.push({ due: performance.now() + this.options.delayMs, go });
      this.schedule();
    });
  }

  /** Answers every held refusal now. */
  releaseAll(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const { go } of this.queue.splice(0)) go();
  }

  private get spacing(): number {
    return this.options.perSecond > 0 ? 1000 / this.options.perSecond : 0;
  }

  private schedule(): void {
    if (this.timer !== undefined || this.queue.length === 0) return;
    const at = Math.max(this.queue[0]!.due, this.nextSlot);
    this.timer = setTimeout(() => this.release(), Math.max(0, at - performance.now()));
  }

  private release(): void {
    this.timer = undefined;
    const now = performance.now();
    // Slots a late timer missed are not made up: never more than one refusal per spacing.
    this.nextSlot = Math.max(this.nextSlot, now);
    while (this.queue.length > 0 && this.queue[0]!.due <= now && this.nextSlot <= now) {
      this.queue.shift()!.go();
      this.nextSlot += this.spacing;
    }
    this.schedule();
  }
}
