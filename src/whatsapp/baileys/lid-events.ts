import { isLidUser, isPnUser, jidDecode, jidNormalizedUser, type Contact, type LIDMapping } from 'baileys';

export interface LidPair {
  lid: string;
  phone: string;
}

/** A LID and a phone-number jid (any device) → the pair core keeps, or null when they are not that. */
export function lidPair(lid: string | null | undefined, pn: string | null | undefined): LidPair | null {
  if (!lid || !pn) return null;
  const normalLid = jidNormalizedUser(lid);
  const normalPn = jidNormalizedUser(pn);
  if (!isLidUser(normalLid) || !isPnUser(normalPn)) return null;
  const phone = jidDecode(normalPn)?.user;
  return phone ? { lid: normalLid, phone } : null;
}

/** Baileys' `lid-mapping.update` (one mapping, or several in one event). */
export function pairsFromMappings(update: LIDMapping | LIDMapping[]): LidPair[] {
  const list = Array.isArray(update) ? update : [update];
  return list.flatMap((m) => lidPair(m.lid, m.pn) ?? []);
}

/** Contacts that name both ids (`contacts.upsert` / `contacts.update`). */
export function pairsFromContacts(contacts: Array<Partial<Contact>>): LidPair[] {
  return contacts.flatMap((c) => {
    const lid = c.lid ?? (c.id && isLidUser(c.id) ? c.id : undefined);
    const pn = c.phoneNumber ?? (c.id && isPnUser(c.id) ? c.id : undefined);
    return lidPair(lid, pn) ?? [];
  });
}
