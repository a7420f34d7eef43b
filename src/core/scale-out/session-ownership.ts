import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { coerceError } from '../errors.js';
import { planShare } from './fair-share.js';
import type { LeaseBackend, LeaseRow, ProcessInfo } from './lease-backend.js';

export interface OwnershipSettings {
  /** How long a lease lasts without renewal (SESSION_LEASE_MS): a SIGKILLed holder's sessions move after it. */
  leaseMs: number;
  /** How often leases are renewed and the share worked out again (SESSION_LEASE_RENEW_MS). */
  renewMs: number;
  /** Sending stops this long before the lease could expire (SESSION_SEND_MARGIN_MS). */
  marginMs: number;
  /** Sessions handed back per tick when over the share. */
  maxReleasesPerTick: number;
}

export function defaultOwnershipSettings(leaseMs: number): OwnershipSettings {
  return { leaseMs, renewMs: Math.max(250, Math.floor(leaseMs / 4)), marginMs: Math.floor(leaseMs / 4), maxReleasesPerTick: 10 };
}

/** What runs the sessions: which should run, and what to do when one is gained or must stop here. */
export interface SessionHandlers {
  /** Every session that should run on some process. */
  sessions(): Promise<string[]>;
  /** Sessions this process keeps whatever the share (a link in progress). */
  pinned?(): Set<string>;
  gained?(accountId: string, token: number): Promise<void> | void;
}

/** Stops whatever works on a session here (closes its socket, finishes its send lane) before it is let go. */
export type LostListener = (accountId: string) => Promise<void> | void;

export interface HeldLease {
  token: number;
  /** This process's own clock: when the lease can expire at the earliest. */
  validUntil: number;
}

export interface OwnershipStats {
  renewals: number;
  takeovers: number;
  handedBack: number;
  lost: number;
}

/**
 * This process's share of the sessions when several gateway processes share one database: a
 * heartbeat in `wa_processes`, a lease per session it runs (renewed every `renewMs`), the fair share
 * worked out every tick (see fair-share.ts), and the fence every send goes through — a session may
 * send only while its lease has more than `marginMs` left by this process's own clock, so a process
 * that was paused (GC, SIGSTOP, a split from the database) stops before its lease can pass to
 * another, not after.
 */
export class SessionOwnership {
  readonly process: ProcessInfo;
  readonly stats: OwnershipStats = { renewals: 0, takeovers: 0, handedBack: 0, lost: 0 };
  private readonly held = new Map<string, HeldLease>();
  /** Being handed back: its lane is finishing and the lease goes next; not to be taken again meanwhile. */
  private readonly releasing = new Set<string>();
  private readonly lostListeners: LostListener[] = [];
  private handlers: SessionHandlers | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> = Promise.resolve();
  private running = false;
  private stopListening: (() => void) | undefined;

  constructor(
    private readonly backend: LeaseBackend,
    readonly settings: OwnershipSettings,
    private readonly clock: () => number = Date.now,
    private readonly onError: (error: Error) => void = () => undefined,
    id = `${process.pid}-${randomBytes(4).toString('hex')}`,
  ) {
    this.process = { id, host: hostname(), pid: process.pid, startedAt: clock() };
  }

  get id(): string {
    return this.process.id;
  }

  onLost(listener: LostListener): void {
    this.lostListeners.push(listener);
  }

  /** Registers the process and takes its share at once; then ticks every `renewMs`. */
  async start(handlers: SessionHandlers, options: { timer?: boolean } = {}): Promise<void> {
    this.handlers = handlers;
    this.running = true;
    await this.tick();
    if (options.timer === false) return;
    // Leases freed elsewhere (a process stopping, or handing extras back) are taken at once: a
    // SIGTERM hands its sessions over in the time of one round, not of a renewal interval.
    this.stopListening = await this.backend.onFreed?.((from) => {
      if (from !== this.id && this.running) void this.tick();
    });
    this.timer = setInterval(() => void this.tick(), this.settings.renewMs);
    this.timer.unref();
  }

  /** Stops what runs here, hands every lease back at once (another process takes them at its next tick) and leaves. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    this.stopListening?.();
    await this.ticking;
    const ids = [...this.held.keys()];
    await this.handBack(ids);
    await this.backend.leave(this.id).catch((error) => this.onError(coerceError(error)));
  }

  /** One round: heartbeat, renewals, the share. Never two at once. */
  tick(): Promise<void> {
    this.ticking = this.ticking.then(() => this.round()).catch((error) => this.onError(coerceError(error)));
    return this.ticking;
  }

  private async round(): Promise<void> {
    if (!this.running || !this.handlers) return;
    const now = this.clock();
    await this.backend.heartbeat(this.process, now);
    const live = await this.backend.liveProcesses(now - this.settings.leaseMs);
    if (this.held.size > 0) {
      const ids = [...this.held.keys()];
      const renewed = await this.backend.renew(this.id, ids, now, this.settings.leaseMs);
      for (const id of ids) {
        const token = renewed.get(id);
        if (token !== undefined && token === this.held.get(id)?.token) {
          this.held.set(id, { token, validUntil: now + this.settings.leaseMs });
          this.stats.renewals++;
        } else {
          // Another process took it (this one was too slow to renew): stop at once.
          this.held.delete(id);
          this.stats.lost++;
          await this.notifyLost(id);
        }
      }
    }
    if (!this.running) return;
    const sessions = await this.handlers.sessions();
    const leases = await this.backend.leases();
    const plan = planShare({
      me: this.id,
      now,
      liveProcesses: live,
      sessions,
      leases,
      held: new Set(this.held.keys()),
      pinned: this.handlers.pinned?.(),
      maxReleases: this.settings.maxReleasesPerTick,
    });
    await this.handBack(plan.release);
    if (plan.acquire.length > 0 && this.running) await this.take(plan.acquire, now);
  }

  private async take(ids: string[], now: number, notify = true): Promise<Map<string, number>> {
    const taken = await this.backend.acquire(this.id, ids, now, this.settings.leaseMs);
    for (const [id, token] of taken) {
      const before = this.held.get(id);
      this.held.set(id, { token, validUntil: now + this.settings.leaseMs });
      if (before?.token === token) continue;
      this.stats.takeovers++;
      if (notify) await this.handlers?.gained?.(id, token);
    }
    return taken;
  }

  private async handBack(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    for (const id of ids) {
      this.held.delete(id);
      this.releasing.add(id);
    }
    try {
      // What runs here stops first (lanes commit what they sent), then the lease goes.
      for (const id of ids) await this.notifyLost(id);
      await this.backend.release(this.id, ids).catch((error) => this.onError(coerceError(error)));
    } finally {
      for (const id of ids) this.releasing.delete(id);
    }
    this.stats.handedBack += ids.length;
  }

  private async notifyLost(accountId: string): Promise<void> {
    for (const listener of this.lostListeners) {
      try {
        await listener(accountId);
      } catch (error) {
        this.onError(coerceError(error));
      }
    }
  }

  /** The token to send under, or null: not held here, or too close to the lease's end to start a send. */
  sendToken(accountId: string): number | null {
    const lease = this.held.get(accountId);
    if (!lease) return null;
    return this.clock() < lease.validUntil - this.settings.marginMs ? lease.token : null;
  }

  holds(accountId: string): boolean {
    return this.held.has(accountId);
  }

  /**
   * Takes a session now, outside the share (a link started here, a sandbox send): null when another
   * live process holds it. The caller runs the session itself (`gained` is not called).
   */
  async takeNow(accountId: string): Promise<number | null> {
    // Taken again while its hand-back waits for the lane, it would start a send that the release
    // then orphans: the next holder would send it again.
    if (this.releasing.has(accountId)) return null;
    const now = this.clock();
    const taken = await this.take([accountId], now, false);
    return taken.get(accountId) ?? null;
  }

  /** Hands one session back (logged out, linking failed): no lost listeners, the caller stopped it. */
  async release(accountId: string): Promise<void> {
    this.held.delete(accountId);
    await this.backend.release(this.id, [accountId]);
  }

  /** The other live process holding the session (where its socket calls go), or null. */
  async holderElsewhere(accountId: string): Promise<string | null> {
    const now = this.clock();
    const lease = await this.backend.leaseOf(accountId);
    return lease && lease.owner !== this.id && lease.expiresAt >= now ? lease.owner : null;
  }

  async heldElsewhere(accountId: string): Promise<boolean> {
    return (await this.holderElsewhere(accountId)) !== null;
  }

  async accountsHeldElsewhere(): Promise<string[]> {
    const now = this.clock();
    return (await this.backend.leases()).filter((l) => l.owner !== this.id && l.expiresAt >= now).map((l) => l.accountId);
  }

  heldLeases(): Array<{ accountId: string } & HeldLease> {
    return [...this.held].map(([accountId, lease]) => ({ accountId, ...lease })).sort((a, b) => a.accountId.localeCompare(b.accountId));
  }

  /** For tests and the simulation: every lease as the backend holds it. */
  allLeases(): Promise<LeaseRow[]> {
    return this.backend.leases();
  }
}
