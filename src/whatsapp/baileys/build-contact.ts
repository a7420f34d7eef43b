import type { AnyMessageContent } from 'baileys';
import type { ContactCard } from '../../core/message-content.js';

/** vCard 3.0 text values escape backslash, comma, semicolon and newlines (RFC 2426 §4). */
function escape(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/,/g, '\\,').replace(/;/g, '\\;').replace(/\r?\n/g, '\\n');
}

/** The vCard WhatsApp's apps write: `waid` on each number lets the recipient tap "Message". */
export function vcardOf(contact: ContactCard): string {
  const lines = ['BEGIN:VCARD', 'VERSION:3.0', `FN:${escape(contact.name)}`, `N:;${escape(contact.name)};;;`];
  if (contact.organization) lines.push(`ORG:${escape(contact.organization)};`);
  if (contact.email) lines.push(`EMAIL;type=INTERNET:${escape(contact.email)}`);
  for (const phone of contact.phones) {
    const digits = phone.replace(/\D/g, '');
    lines.push(digits ? `TEL;type=CELL;waid=${digits}:${escape(phone)}` : `TEL;type=CELL:${escape(phone)}`);
  }
  lines.push('END:VCARD');
  return lines.join('\n');
}

/** One contact is a contactMessage; several are a contactsArrayMessage (Baileys picks by count). */
export function contactContent(contacts: ContactCard[]): AnyMessageContent {
  const displayName = contacts.length === 1 ? contacts[0]!.name : `${contacts.length} contacts`;
  return { contacts: { displayName, contacts: contacts.map((c) => ({ displayName: c.name, vcard: vcardOf(c) })) } };
}
