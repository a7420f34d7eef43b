import type { LeaseBackend, LeaseRow, ProcessInfo } from '../../src/core/scale-out/lease-backend.js';

/** The lease table's rules (as SqlLeaseBackend's statements apply them) over a map: for the simulation. */
export class MemoryLeaseBackend implements LeaseBackend {
  readonly rows = new Map<string, LeaseRow>();
  readonly heartbeats = new Map<string, number>();

  async heartbeat(process: ProcessInfo, now: number): Promise<void> {
    this.heartbeats.set(process.id, now);
  }

  async leave(processId: string): Promise<void> {
    this.heartbeats.delete(processId);
  }

  async liveProcesses(since: number): Promise<string[]> {
    return [...this.heartbeats].filter(([, at]) => at >= since).map(([id]) => id);
  }

  async leases(): Promise<LeaseRow[]> {
    return [...this.rows.values()].map((r) => ({ ...r }));
  }

  async leaseOf(accountId: string): Promise<LeaseRow | undefined> {
    const row = this.rows.get(accountId);
    return row && { ...row };
  }

  async renew(owner: string, accountIds: string[], now: number, ttlMs: number): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const id of accountIds) {
      const row = this.rows.get(id);
      if (row?.owner !== owner) continue;
      row.expiresAt = now + ttlMs;
      out.set(id, row.token);
    }
    return out;
  }

  async acquire(owner: string, accountIds: string[], now: number, ttlMs: number): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const id of accountIds) {
      const row = this.rows.get(id);
      if (!row) {
        this.rows.set(id, { accountId: id, owner, expiresAt: now + ttlMs, token: 1 });
        out.set(id, 1);
      } else if (row.owner === owner || row.expiresAt < now) {
        const renewal = row.owner === owner && row.expiresAt >= now;
        Object.assign(row, { owner, expiresAt: now + ttlMs, token: renewal ? row.token : row.token + 1 });
        out.set(id, row.token);
      }
    }
    return out;
  }

  async release(owner: string, accountIds: string[]): Promise<void> {
    for (const id of accountIds) {
      const row = this.rows.get(id);
      if (row?.owner === owner) row.expiresAt = 0;
    }
  }
}
