import type { Store } from '../../store/store.js';

/**
 * Time-limited ownership of a session, so that processes sharing one PostgreSQL never open two
 * sockets for the same number (WhatsApp would answer with "connection replaced" and the two would
 * take turns kicking each other). A process takes a free or expired lease, renews it well before it
 * runs out, and lets it go on stop; a process that dies loses it after `ttlMs`. SQLite is single
 * process, but the same code runs there and costs one small write per renewal.
 */
export class SessionLeases {
  constructor(
    private readonly store: Store,
    readonly owner: string,
    readonly ttlMs: number,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Takes or renews the lease; false when another live process holds it. */
  async acquire(accountId: string): Promise<boolean> {
    const now = this.clock();
    const expires = now + this.ttlMs;
    const row = await this.store.write((tx) =>
      tx
        .insertInto('wa_session_leases')
        .values({ account_id: accountId, owner: this.owner, expires_at: expires })
        .onConflict((oc) =>
          oc
            .column('account_id')
            .doUpdateSet({ owner: this.owner, expires_at: expires })
            .where((eb) => eb.or([eb('wa_session_leases.owner', '=', this.owner), eb('wa_session_leases.expires_at', '<', now)])),
        )
        .returning('owner')
        .executeTakeFirst(),
    );
    return row?.owner === this.owner;
  }

  /** Renews every lease this process holds; answers the accounts it no longer holds. */
  async renew(accountIds: string[]): Promise<string[]> {
    if (accountIds.length === 0) return [];
    const now = this.clock();
    const renewed = await this.store.write((tx) =>
      tx
        .updateTable('wa_session_leases')
        .set({ expires_at: now + this.ttlMs })
        .where('owner', '=', this.owner)
        .where('account_id', 'in', accountIds)
        .returning('account_id')
        .execute(),
    );
    const held = new Set(renewed.map((r) => r.account_id));
    return accountIds.filter((id) => !held.has(id));
  }

  async release(accountId: string): Promise<void> {
    await this.store.write((tx) => tx.deleteFrom('wa_session_leases').where('account_id', '=', accountId).where('owner', '=', this.owner).execute());
  }

  /** Whether another process holds a live lease on the session. */
  async heldElsewhere(accountId: string): Promise<boolean> {
    const row = await this.store.db
      .selectFrom('wa_session_leases')
      .select(['owner', 'expires_at'])
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    return row !== undefined && row.owner !== this.owner && row.expires_at >= this.clock();
  }

  /** Every session another live process holds, so this one leaves their messages to it. */
  async allHeldElsewhere(): Promise<string[]> {
    const rows = await this.store.db
      .selectFrom('wa_session_leases')
      .select('account_id')
      .where('owner', '!=', this.owner)
      .where('expires_at', '>=', this.clock())
      .execute();
    return rows.map((r) => r.account_id);
  }
}
