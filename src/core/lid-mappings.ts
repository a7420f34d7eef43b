import type { Tx } from '../store/store.js';
import type { IncomingSender } from './driver-port.js';
import { parseContent } from './message-content.js';

/** A LID jid as WhatsApp writes it: digits, then `@lid`. */
export const LID_JID = /^\d{1,30}@lid$/;
const PHONE = /^\d{5,20}$/;

export interface LidMapping {
  /** `<digits>@lid` */
  lid: string;
  /** The phone number's digits. */
  phone: string;
}

export function isLid(value: string | null | undefined): value is string {
  return typeof value === 'string' && LID_JID.test(value);
}

/**
 * Remembers which number is behind a LID for an account (WhatsApp told the session: a LID-mapping
 * update, a message key's alternate id, a contact). When the pair is new, what the account already
 * received from that LID is filed under the number from now on: the chat a direct message arrived
 * in, its sender, and the sender its stored event names, so the inbox shows one chat per person.
 * Pairs that are not a LID and a number are ignored.
 */
export async function learnLids(tx: Tx, accountId: string, pairs: LidMapping[], now: number): Promise<void> {
  for (const { lid, phone } of pairs) {
    if (!isLid(lid) || !PHONE.test(phone)) continue;
    const known = await tx.selectFrom('lid_mappings').select('phone').where('account_id', '=', accountId).where('lid', '=', lid).executeTakeFirst();
    if (known?.phone === phone) continue;
    await tx
      .insertInto('lid_mappings')
      .values({ account_id: accountId, lid, phone, updated_at: now })
      .onConflict((oc) => oc.columns(['account_id', 'lid']).doUpdateSet({ phone, updated_at: now }))
      .execute();
    await fileUnderNumber(tx, accountId, lid, phone);
  }
}

async function fileUnderNumber(tx: Tx, accountId: string, lid: string, phone: string): Promise<void> {
  await tx.updateTable('messages').set({ recipient: phone }).where('account_id', '=', accountId).where('direction', '=', 'in').where('recipient', '=', lid).execute();
  const rows = await tx.selectFrom('messages').select(['id', 'content']).where('account_id', '=', accountId).where('direction', '=', 'in').where('sender', '=', lid).execute();
  for (const row of rows) {
    const content = parseContent(row.content);
    if (content.inbound) {
      content.inbound = { ...content.inbound, from: phone, fromLid: content.inbound.fromLid ?? lid };
      if (content.inbound.participant === lid) content.inbound.participant = phone;
    }
    await tx.updateTable('messages').set({ sender: phone, content: JSON.stringify(content) }).where('id', '=', row.id).execute();
  }
}

/** The number behind a LID, if the account knows it. */
export async function phoneForLid(db: Tx, accountId: string, lid: string): Promise<string | null> {
  const row = await db.selectFrom('lid_mappings').select('phone').where('account_id', '=', accountId).where('lid', '=', lid).executeTakeFirst();
  return row?.phone ?? null;
}

/**
 * The sender as events should name them: a number the driver gave beside a LID is remembered; a
 * LID alone is replaced by its number when the account knows it (`fromLid` keeps the LID).
 */
export async function withKnownNumber<T extends IncomingSender>(tx: Tx, accountId: string, sender: T, now: number): Promise<T> {
  if (isLid(sender.fromLid) && !isLid(sender.from)) {
    await learnLids(tx, accountId, [{ lid: sender.fromLid, phone: sender.from }], now);
    return sender;
  }
  if (!isLid(sender.from)) return sender;
  const lid = sender.from;
  const phone = await phoneForLid(tx, accountId, lid);
  if (!phone) return { ...sender, fromLid: lid };
  return { ...sender, from: phone, fromLid: lid, participant: sender.participant === lid ? phone : sender.participant };
}
