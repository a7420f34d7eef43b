import { sql } from 'kysely';
import type { Store, Tx } from '../../store/store.js';
import type { LeaseBackend, LeaseRow, ProcessInfo } from './lease-backend.js';

/** The signal a process sends when it frees leases or leaves (its id as the payload). */
const LEASES_FREED = 'session_leases_freed';
/** Rows per statement: well inside SQLite's variable limit. */
const CHUNK = 400;
/** A process row without a heartbeat for this long is deleted (it died without leaving). */
const FORGET_DEAD_AFTER_MS = 24 * 60 * 60 * 1000;

function chunks<T>(list: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += CHUNK) out.push(list.slice(i, i + CHUNK));
  return out;
}

/** Leases and heartbeats in `wa_session_leases` and `wa_processes`: one statement per step. */
export class SqlLeaseBackend implements LeaseBackend {
  constructor(private readonly store: Store) {}

  async heartbeat(process: ProcessInfo, now: number): Promise<void> {
    await this.store.write(async (tx) => {
      await tx
        .insertInto('wa_processes')
        .values({ id: process.id, host: process.host, pid: process.pid, started_at: process.startedAt, heartbeat_at: now })
        .onConflict((oc) => oc.column('id').doUpdateSet({ heartbeat_at: now }))
        .execute();
      await tx.deleteFrom('wa_processes').where('heartbeat_at', '<', now - FORGET_DEAD_AFTER_MS).execute();
    });
  }

  async leave(processId: string): Promise<void> {
    await this.store.write(async (tx) => {
      await tx.deleteFrom('wa_processes').where('id', '=', processId).execute();
      await this.store.signals.notify(tx, LEASES_FREED, processId);
    });
  }

  async liveProcesses(since: number): Promise<string[]> {
    const rows = await this.store.db.selectFrom('wa_processes').select('id').where('heartbeat_at', '>=', since).execute();
    return rows.map((r) => r.id);
  }

  async leases(): Promise<LeaseRow[]> {
    const rows = await this.store.db.selectFrom('wa_session_leases').select(['account_id', 'owner', 'expires_at', 'token']).execute();
    return rows.map(toLeaseRow);
  }

  async leaseOf(accountId: string): Promise<LeaseRow | undefined> {
    const row = await this.store.db.selectFrom('wa_session_leases').select(['account_id', 'owner', 'expires_at', 'token']).where('account_id', '=', accountId).executeTakeFirst();
    return row && toLeaseRow(row);
  }

  async renew(owner: string, accountIds: string[], now: number, ttlMs: number): Promise<Map<string, number>> {
    const renewed = new Map<string, number>();
    for (const part of chunks(accountIds)) {
      const rows = await this.store.write((tx) =>
        tx
          .updateTable('wa_session_leases')
          .set({ expires_at: now + ttlMs })
          .where('owner', '=', owner)
          .where('account_id', 'in', part)
          .returning(['account_id', 'token'])
          .execute(),
      );
      for (const r of rows) renewed.set(r.account_id, Number(r.token));
    }
    return renewed;
  }

  async acquire(owner: string, accountIds: string[], now: number, ttlMs: number): Promise<Map<string, number>> {
    const taken = new Map<string, number>();
    for (const part of chunks(accountIds)) {
      const rows = await this.store.write((tx) =>
        tx
          .insertInto('wa_session_leases')
          .values(part.map((id) => ({ account_id: id, owner, expires_at: now + ttlMs, token: 1, acquired_at: now })))
          .onConflict((oc) =>
            oc
              .column('account_id')
              .doUpdateSet({
                owner,
                expires_at: now + ttlMs,
                // A renewal of this process's own live lease keeps its token; any other take raises it.
                token: sql<number>`CASE WHEN wa_session_leases.owner = ${owner} AND wa_session_leases.expires_at >= ${now} THEN wa_session_leases.token ELSE wa_session_leases.token + 1 END`,
                acquired_at: sql<number>`CASE WHEN wa_session_leases.owner = ${owner} AND wa_session_leases.expires_at >= ${now} THEN wa_session_leases.acquired_at ELSE ${now} END`,
              })
              .where((eb) => eb.or([eb('wa_session_leases.owner', '=', owner), eb('wa_session_leases.expires_at', '<', now)])),
          )
          .returning(['account_id', 'owner', 'token'])
          .execute(),
      );
      for (const r of rows) if (r.owner === owner) taken.set(r.account_id, Number(r.token));
    }
    return taken;
  }

  async release(owner: string, accountIds: string[]): Promise<void> {
    for (const part of chunks(accountIds)) {
      await this.store.write(async (tx) => {
        await tx.updateTable('wa_session_leases').set({ expires_at: 0 }).where('owner', '=', owner).where('account_id', 'in', part).execute();
        await this.store.signals.notify(tx, LEASES_FREED, owner);
      });
    }
  }

  onFreed(handler: (processId: string) => void): Promise<() => void> {
    return this.store.signals.listen(LEASES_FREED, handler);
  }
}

/**
 * SQLite is one process by design: at start, whatever leases a previous run left (a crash) are
 * over, so its sessions need not wait for them to expire. Tokens are kept, so the next are higher.
 */
export async function expireAllLeases(store: Store): Promise<void> {
  await store.write((tx) => tx.updateTable('wa_session_leases').set({ expires_at: 0 }).execute());
}

/**
 * Inside an outcome's transaction: whether `owner` still holds the session under `token`. On
 * PostgreSQL the row is locked for share, so no takeover can commit between this check and the
 * outcome's commit.
 */
export async function holdsLease(tx: Tx, dialect: Store['dialect'], accountId: string, owner: string, token: number): Promise<boolean> {
  let q = tx.selectFrom('wa_session_leases').select('token').where('account_id', '=', accountId).where('owner', '=', owner).where('token', '=', token);
  if (dialect === 'postgres') q = q.forShare();
  return (await q.executeTakeFirst()) !== undefined;
}

function toLeaseRow(r: { account_id: string; owner: string; expires_at: number; token: number }): LeaseRow {
  return { accountId: r.account_id, owner: r.owner, expiresAt: Number(r.expires_at), token: Number(r.token) };
}
