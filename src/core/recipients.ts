import { AppError } from './errors.js';

export interface Recipient {
  /** Digits for a phone number, or the group id as given (`…@g.us`). */
  value: string;
  isGroup: boolean;
}

const GROUP_ID = /^\d{5,30}(-\d{5,20})?@g\.us$/;
const PHONE_DECORATION = /[\s\-().]/g;
// WhatsApp's own ids for a person (whatsapp-web.js and Green-API write `<digits>@c.us`, Baileys `@s.whatsapp.net`).
const PERSONAL_JID = /^(\+?\d{7,15})@(c\.us|s\.whatsapp\.net)$/i;

/** Normalises what a user typed into a phone number (country code, 7–15 digits) or a group id. */
export function parseRecipient(raw: string): Recipient {
  const trimmed = raw.trim();
  if (trimmed.toLowerCase().endsWith('@g.us')) {
    const id = trimmed.toLowerCase();
    if (!GROUP_ID.test(id)) {
      throw new AppError('invalid_recipient', `Invalid recipient "${raw}": a group id looks like 120363012345678901@g.us.`);
    }
    return { value: id, isGroup: true };
  }
  const jid = PERSONAL_JID.exec(trimmed);
  if (jid) return { value: jid[1]!.replace(/^\+/, ''), isGroup: false };
  const digits = trimmed.replace(PHONE_DECORATION, '').replace(/^\+/, '');
  if (!/^\d{7,15}$/.test(digits)) {
    throw new AppError(
      'invalid_recipient',
      `Invalid recipient "${raw}": use the phone number with country code, 7 to 15 digits (e.g. 12125551234), or a group id ending in @g.us.`,
    );
  }
  return { value: digits, isGroup: false };
}
