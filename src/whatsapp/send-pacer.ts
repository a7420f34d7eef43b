export interface PacingOptions {
  minMs: number;
  maxMs: number;
}

/**
 * Spaces the sends of one session by a random pause between `minMs` and `maxMs` (WhatsApp
 * restricts bursts from linked devices). The dispatcher already sends one message at a time per
 * account, so the pause is simply awaited before the next send.
 */
export class SendPacer {
  private readonly nextAllowed = new Map<string, number>();

  constructor(
    private readonly options: PacingOptions,
    private readonly clock: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {}

  /** How long the next send of this session must wait. */
  waitMs(accountId: string): number {
    return Math.max(0, (this.nextAllowed.get(accountId) ?? 0) - this.clock());
  }

  async wait(accountId: string): Promise<void> {
    const ms = this.waitMs(accountId);
    if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
  }

  sent(accountId: string): void {
    const { minMs, maxMs } = this.options;
    if (maxMs <= 0) return;
    this.nextAllowed.set(accountId, this.clock() + minMs + Math.round(this.random() * Math.max(0, maxMs - minMs)));
  }

  forget(accountId: string): void {
    this.nextAllowed.delete(accountId);
  }
}
