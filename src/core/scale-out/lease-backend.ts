import type { LeaseView } from './fair-share.js';

/** A lease as the backend holds it: `token` grows with every change of holder. */
export interface LeaseRow extends LeaseView {
  token: number;
}

export interface ProcessInfo {
  id: string;
  host: string;
  pid: number;
  startedAt: number;
}

/**
 * Where leases and heartbeats live: the database in the gateway (SqlLeaseBackend), a map in the
 * simulation. Every method is one atomic step, as one SQL statement is.
 */
export interface LeaseBackend {
  heartbeat(process: ProcessInfo, now: number): Promise<void>;
  leave(processId: string): Promise<void>;
  /** Processes whose heartbeat is at or after `since`. */
  liveProcesses(since: number): Promise<string[]>;
  leases(): Promise<LeaseRow[]>;
  /** One session's lease, if it has a row: what a forwarded call or an "is it served elsewhere" asks. */
  leaseOf(accountId: string): Promise<LeaseRow | undefined>;
  /** Extends the leases `owner` still holds; answers those it renewed, with their tokens. */
  renew(owner: string, accountIds: string[], now: number, ttlMs: number): Promise<Map<string, number>>;
  /**
   * Takes each session that is free, expired or already `owner`'s; answers those taken, with their
   * tokens (one more than before whenever the holder changes, the previous holder included).
   */
  acquire(owner: string, accountIds: string[], now: number, ttlMs: number): Promise<Map<string, number>>;
  /** Frees the leases (expired at once, the token kept so the next holder's is higher). */
  release(owner: string, accountIds: string[]): Promise<void>;
  /**
   * Calls `handler` with the process's id whenever a process frees leases or leaves, so the others
   * take them at once instead of at their next tick; answers a function that stops listening.
   */
  onFreed?(handler: (processId: string) => void): Promise<() => void>;
}
