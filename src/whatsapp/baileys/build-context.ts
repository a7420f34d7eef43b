import type { proto, WAMessage, WAMessageKey } from 'baileys';
import type { MessageContent, MessageReference } from '../../core/message-content.js';
import { toJid } from './jid.js';

export function referenceKey(ref: MessageReference): WAMessageKey {
  return { remoteJid: toJid(ref.chat), fromMe: ref.fromMe, id: ref.waMessageId, participant: ref.participant };
}

/** The quoted message as Baileys wants it for `contextInfo` (stanza id, participant, quoted content). */
export function quotedMessage(ref: MessageReference, rebuild: (ref: MessageReference) => proto.IMessage): WAMessage {
  return { key: referenceKey(ref), message: rebuild(ref) };
}

/** `mentions` as jids, and `mentionAll` (WhatsApp's @all), for the kinds that carry text. */
export function mentionFields(content: MessageContent): { mentions?: string[]; mentionAll?: boolean } {
  const fields: { mentions?: string[]; mentionAll?: boolean } = {};
  if (content.mentions && content.mentions.length > 0) fields.mentions = content.mentions.map(toJid);
  if (content.mentionAll) fields.mentionAll = true;
  return fields;
}
