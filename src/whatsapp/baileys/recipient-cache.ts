import type { Store } from '../../store/store.js';
import type { SocketLike } from './socket-factory.js';

const FOUND_TTL_MS = 7 * 24 * 60 * 60 * 1000;
const NOT_FOUND_TTL_MS = 60 * 60 * 1000;

/**
 * WhatsApp's answer to "is this number on WhatsApp" (`onWhatsApp`), asked once per number and
 * kept in the database, so restarts do not ask again: a week for a number that exists, an hour
 * for one that does not (a number that joins is found again).
 */
export class RecipientCache {
  constructor(
    private readonly store: Store,
    private readonly clock: () => number = Date.now,
  ) {}

  /** The chat id for a phone number's digits, or null when the number is not on WhatsApp. */
  async resolve(accountId: string, socket: SocketLike, digits: string): Promise<string | null> {
    const now = this.clock();
    const cached = await this.store.db
      .selectFrom('wa_recipients')
      .select(['jid', 'checked_at'])
      .where('account_id', '=', accountId)
      .where('phone', '=', digits)
      .executeTakeFirst();
    if (cached && now - cached.checked_at < (cached.jid ? FOUND_TTL_MS : NOT_FOUND_TTL_MS)) return cached.jid;
    const results = await socket.onWhatsApp(`${digits}@s.whatsapp.net`);
    const jid = results?.find((r) => r.exists)?.jid ?? null;
    await this.store.write((tx) =>
      tx
        .insertInto('wa_recipients')
        .values({ account_id: accountId, phone: digits, jid, checked_at: now })
        .onConflict((oc) => oc.columns(['account_id', 'phone']).doUpdateSet({ jid, checked_at: now }))
        .execute(),
    );
    return jid;
  }

  async forget(accountId: string): Promise<void> {
    await this.store.write((tx) => tx.deleteFrom('wa_recipients').where('account_id', '=', accountId).execute());
  }
}
