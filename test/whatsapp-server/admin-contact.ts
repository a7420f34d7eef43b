import { sendAsContact, type ContactKind, type ContactSend } from './contact-kinds.js';
import type { WhatsAppTestServer } from './server.js';

/**
 * POST /admin/contact-message {from, phone, group?, pushName?, lid?, replyTo?, mentions?, message}:
 * the contact's phone sends `message` (a ContactKind; a file as `file` in base64). Answers its id.
 * POST /admin/expire-media {id}: WhatsApp's copy of that message's file expires.
 */
export async function contactAdmin(server: WhatsAppTestServer, call: string, body: Record<string, any>): Promise<unknown> {
  if (call === 'contact-message') {
    const { message, ...to } = body as ContactSend & { message: ContactKind & { file?: string } };
    const kind = 'file' in message && typeof message.file === 'string' ? ({ ...message, file: Buffer.from(message.file, 'base64') } as ContactKind) : message;
    return { id: await sendAsContact(server, to, kind) };
  }
  if (call === 'expire-media') {
    server.contacts.expire(String(body.id));
    return { ok: true };
  }
  return undefined;
}
