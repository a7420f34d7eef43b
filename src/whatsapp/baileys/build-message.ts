import { generateWAMessage, proto, type AnyMessageContent, type WAMediaUploadFunction, type WAMessage } from 'baileys';
import type { MessageReference } from '../../core/message-content.js';
import type { OutgoingMessage } from '../driver.js';
import { audioContent } from './build-audio.js';
import { contactContent } from './build-contact.js';
import { mentionFields, quotedMessage } from './build-context.js';
import { locationContent } from './build-location.js';
import { pollContent } from './build-poll.js';
import { reactionContent } from './build-reaction.js';
import { editContent, revokeContent } from './build-protocol.js';
import { stickerContent } from './build-sticker.js';
import { videoContent } from './build-video.js';
import { toJid } from './jid.js';

export { toJid };

/**
 * What Baileys is asked to send. Media goes as the bytes our media fetcher already checked, with
 * its mimetype and file name; Baileys is never handed a URL to fetch.
 */
export function messageContent(message: OutgoingMessage): AnyMessageContent {
  const content = message.content ?? {};
  const mentions = mentionFields(content);
  switch (message.kind) {
    case 'text':
      return { text: message.text ?? '', ...mentions };
    case 'location':
      return locationContent(need(message, content.location));
    case 'contact':
      return contactContent(need(message, content.contacts));
    case 'poll':
      return { ...pollContent(need(message, content.poll)), ...mentions };
    case 'reaction': {
      const reaction = need(message, content.reaction);
      return reactionContent(reaction.target, reaction.emoji, message.createdAt);
    }
    case 'edit':
      return editContent(need(message, content.edit).target, message.text ?? '');
    case 'revoke':
      return revokeContent(need(message, content.revoke).target);
    default:
      break;
  }
  const media = message.media;
  if (!media) throw new Error(`The ${message.kind} for message ${message.id} was not downloaded before sending.`);
  const caption = message.text ?? undefined;
  if (message.kind === 'image') return { image: media.bytes, mimetype: media.mimetype, caption, ...mentions };
  if (message.kind === 'video') return { ...videoContent(media, caption, content.gif === true), ...mentions } as AnyMessageContent;
  if (message.kind === 'audio') return audioContent(media, content.voice === true);
  if (message.kind === 'sticker') return stickerContent(media);
  const fileName = message.filename ?? media.fileName ?? 'document.pdf';
  return { document: media.bytes, mimetype: media.mimetype, fileName, caption, ...mentions } as AnyMessageContent;
}

function need<T>(message: OutgoingMessage, part: T | undefined): T {
  if (part === undefined) throw new Error(`Message ${message.id} (${message.kind}) was stored without its content.`);
  return part;
}

/**
 * Builds the WhatsApp message with Baileys' own generator, under our message id. `upload` is the
 * socket's `waUploadToServer` (tests inject their own). No link-preview fetcher is passed, so a
 * URL in the text is never fetched by the server.
 */
export async function buildMessage(jid: string, message: OutgoingMessage, options: { userJid: string; upload: WAMediaUploadFunction }): Promise<WAMessage> {
  const replyTo = message.content?.replyTo;
  return generateWAMessage(jid, messageContent(message), {
    userJid: options.userJid,
    quoted: replyTo ? quotedMessage(replyTo, quotedFromLog) : undefined,
    upload: options.upload,
    messageId: message.waMessageId,
    timestamp: new Date(message.createdAt),
  });
}

function quotedFromLog(ref: MessageReference): proto.IMessage {
  return messageFromLog({ kind: ref.kind, text: ref.text, filename: null });
}

/** The message WhatsApp asks for again in a retry request, rebuilt from our log (see `getMessage`). */
export function messageFromLog(row: { kind: string; text: string | null; filename: string | null }): proto.IMessage {
  if (row.kind === 'text') return { conversation: row.text ?? '' };
  // The media itself is answered from Baileys' recent-message cache while the process that sent
  // it runs; after a restart we answer with a text stand-in rather than leave "waiting for this message".
  const label = STAND_IN[row.kind] ?? `📎 ${row.filename ?? 'Document'}`;
  return { conversation: row.text ? `${label}: ${row.text}` : label };
}

const STAND_IN: Record<string, string> = {
  image: '🖼 Image',
  video: '🎬 Video',
  audio: '🎵 Audio',
  sticker: 'Sticker',
  location: '📍 Location',
  contact: '👤 Contact',
  poll: '📊 Poll',
  reaction: 'Reaction',
};
