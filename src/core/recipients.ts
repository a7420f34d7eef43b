import { AppError } from './errors.js';

export interface Recipient {
  /** Digits for a phone number, the group id as given (`…@g.us`), or a LID (`<digits>@lid`). */
  value: string;
  isGroup: boolean;
  /** A person WhatsApp named only by their LID (a sender whose number it did not tell). */
  isLid?: boolean;
}

const GROUP_ID = /^\d{5,30}(-\d{5,20})?@g\.us$/;
const PHONE_DECORATION = /[\s\-().]/g;
// WhatsApp's own ids for a person (whatsapp-web.js and Green-API write `<digits>@c.us`, Baileys `@s.whatsapp.net`).
const PERSONAL_JID = /^(\+?\d{7,15})@(c\.us|s\.whatsapp\.net)$/i;
// WhatsApp's private id for a person (`from` of a received message whose number WhatsApp did not say).
const LID = /^(\d{1,30})@lid$/i;

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
  const lid = LID.exec(trimmed);
  if (lid) return { value: `${lid[1]}@lid`, isGroup: false, isLid: true };
  const jid = PERSONAL_JID.exec(trimmed);
  if (jid) return { value: jid[1]!.replace(/^\+/, ''), isGroup: false };
  const digits = trimmed.replace(PHONE_DECORATION, '').replace(/^\+/, '');
  if (!/^\d{7,15}$/.test(digits)) {
    throw new AppError(
      'invalid_recipient',
      `Invalid recipient "${raw}": use the phone number with country code, 7 to 15 digits (e.g. 12125551234), a group id ending in @g.us, or a sender's LID ending in @lid.`,
    );
  }
  return { value: digits, isGroup: false };
}
