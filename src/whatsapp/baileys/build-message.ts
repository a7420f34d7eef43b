import { generateWAMessage, proto, type AnyMessageContent, type WAMediaUploadFunction, type WAMessage } from 'baileys';
import type { OutgoingMessage } from '../driver.js';

/** `12125551234` → `12125551234@s.whatsapp.net`; a group id stays as it is. */
export function toJid(recipient: string): string {
  return recipient.endsWith('@g.us') ? recipient : `${recipient.replace(/\D/g, '')}@s.whatsapp.net`;
}

/**
 * What Baileys is asked to send. Media goes as the bytes our media fetcher already checked, with
 * its mimetype and file name; Baileys is never handed a URL to fetch.
 */
export function messageContent(message: OutgoingMessage): AnyMessageContent {
  if (message.kind === 'text') return { text: message.text ?? '' };
  const media = message.media;
  if (!media) throw new Error(`The ${message.kind} for message ${message.id} was not downloaded before sending.`);
  const caption = message.text ?? undefined;
  if (message.kind === 'image') return { image: media.bytes, mimetype: media.mimetype, caption };
  const fileName = message.filename ?? media.fileName ?? 'document.pdf';
  return { document: media.bytes, mimetype: media.mimetype, fileName, caption };
}

/**
 * Builds the WhatsApp message with Baileys' own generator, under our message id. `upload` is the
 * socket's `waUploadToServer` (tests inject their own). No link-preview fetcher is passed, so a
 * URL in the text is never fetched by the server.
 */
export async function buildMessage(jid: string, message: OutgoingMessage, options: { userJid: string; upload: WAMediaUploadFunction }): Promise<WAMessage> {
  return generateWAMessage(jid, messageContent(message), {
    userJid: options.userJid,
    upload: options.upload,
    messageId: message.waMessageId,
    timestamp: new Date(message.createdAt),
  });
}

/** The message WhatsApp asks for again in a retry request, rebuilt from our log (see `getMessage`). */
export function messageFromLog(row: { kind: string; text: string | null; filename: string | null }): proto.IMessage {
  if (row.kind === 'text') return { conversation: row.text ?? '' };
  // The media itself is answered from Baileys' recent-message cache while the process that sent
  // it runs; after a restart we answer with a text stand-in rather than leave "waiting for this message".
  const label = row.kind === 'image' ? '🖼 Image' : `📎 ${row.filename ?? 'Document'}`;
  return { conversation: row.text ? `${label}: ${row.text}` : label };
}
