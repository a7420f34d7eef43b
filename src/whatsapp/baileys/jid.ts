/** `12125551234` → `12125551234@s.whatsapp.net`; a group id or a LID (`…@lid`) stays as it is. */
export function toJid(recipient: string): string {
  return recipient.endsWith('@g.us') || recipient.endsWith('@lid') ? recipient : `${recipient.replace(/\D/g, '')}@s.whatsapp.net`;
}
