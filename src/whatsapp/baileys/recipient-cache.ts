import type { SocketLike } from './socket-factory.js';

interface Entry {
  jid: string | null;
  at: number;
}

const FOUND_TTL_MS = 7 * 24 * 60 * 60 * 1000;
const NOT_FOUND_TTL_MS = 60 * 60 * 1000;
const MAX_ENTRIES = 10_000;

/**
 * The answer of WhatsApp's `onWhatsApp` per number, asked once and cached (a week for a number
 * that exists, an hour for one that does not, so a number that joins is found again).
 */
export class RecipientCache {
  private readonly byAccount = new Map<string, Map<string, Entry>>();

  constructor(private readonly clock: () => number = Date.now) {}

  /** The chat id for a phone number's digits, or null when the number is not on WhatsApp. */
  async resolve(accountId: string, socket: SocketLike, digits: string): Promise<string | null> {
    const entries = this.byAccount.get(accountId) ?? new Map<string, Entry>();
    this.byAccount.set(accountId, entries);
    const now = this.clock();
    const cached = entries.get(digits);
    if (cached && now - cached.at < (cached.jid ? FOUND_TTL_MS : NOT_FOUND_TTL_MS)) return cached.jid;
    const results = await socket.onWhatsApp(`${digits}@s.whatsapp.net`);
    const found = results?.find((r) => r.exists);
    const jid = found ? found.jid : null;
    entries.delete(digits);
    entries.set(digits, { jid, at: now });
    if (entries.size > MAX_ENTRIES) entries.delete(entries.keys().next().value as string);
    return jid;
  }

  forget(accountId: string): void {
    this.byAccount.delete(accountId);
  }
}
