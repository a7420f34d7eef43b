import type { Store } from '../../store/store.js';

export interface SessionHolderReport {
  processes: Array<{ id: string; host: string; pid: number; startedAt: number; heartbeatAt: number; live: boolean; sessions: number }>;
  sessions: Array<{ accountId: string; email: string; holder: string | null; token: number; expiresAt: number; held: boolean }>;
}

/**
 * Which process holds which session, for `messageapi sessions`. A process counts as live while its
 * heartbeat is younger than `leaseMs`; a lease is held while it has not expired (a released one
 * expired at once).
 */
export async function sessionHolders(store: Store, now: number, leaseMs: number): Promise<SessionHolderReport> {
  const processes = await store.db.selectFrom('wa_processes').selectAll().orderBy('started_at').execute();
  const leases = await store.db
    .selectFrom('wa_session_leases')
    .innerJoin('accounts', 'accounts.id', 'wa_session_leases.account_id')
    .select(['wa_session_leases.account_id', 'accounts.email', 'wa_session_leases.owner', 'wa_session_leases.token', 'wa_session_leases.expires_at'])
    .orderBy('accounts.email')
    .execute();
  const sessions = leases.map((l) => ({
    accountId: l.account_id,
    email: l.email,
    holder: Number(l.expires_at) >= now ? l.owner : null,
    token: Number(l.token),
    expiresAt: Number(l.expires_at),
    held: Number(l.expires_at) >= now,
  }));
  const count = new Map<string, number>();
  for (const s of sessions) if (s.holder) count.set(s.holder, (count.get(s.holder) ?? 0) + 1);
  return {
    processes: processes.map((p) => ({
      id: p.id,
      host: p.host,
      pid: p.pid,
      startedAt: Number(p.started_at),
      heartbeatAt: Number(p.heartbeat_at),
      live: Number(p.heartbeat_at) >= now - leaseMs,
      sessions: count.get(p.id) ?? 0,
    })),
    sessions,
  };
}
