import { proto, type MediaType } from 'baileys';
import { encryptPollVote } from './contact-messages.js';
import type { WhatsAppTestServer } from './server.js';

const SERVER = 's.whatsapp.net';
const ProtocolType = proto.Message.ProtocolMessage.Type;

/** A message this contact's phone sends, as its user would compose it. */
export type ContactKind =
  | { kind: 'text'; text: string }
  /** `expired`: WhatsApp's copy is gone by the time the companion downloads it (the phone still has the file). */
  | { kind: 'image' | 'video' | 'audio' | 'document' | 'sticker'; file: Buffer; mimetype: string; caption?: string; fileName?: string; seconds?: number; ptt?: boolean; gif?: boolean; expired?: boolean }
  | { kind: 'location'; latitude: number; longitude: number; name?: string; address?: string }
  | { kind: 'contact'; name: string; phone: string }
  | { kind: 'poll'; question: string; options: string[]; multipleAnswers?: boolean }
  /** `fromMe`: the reacted message is the contact's own (else the linked number's). */
  | { kind: 'reaction'; targetId: string; emoji: string; fromMe?: boolean }
  | { kind: 'edit'; targetId: string; text: string }
  | { kind: 'revoke'; targetId: string }
  /** A vote on a poll the linked number sent (read from what the contact received). */
  | { kind: 'vote'; pollId: string; options: string[] };

/** Who sends, to whom, and how WhatsApp names the sender (see WhatsAppTestServer.deliver). */
export interface ContactSend {
  from: string;
  phone: string;
  group?: string;
  pushName?: string;
  lid?: 'only' | 'with-number';
  /** A reply: the quoted message's id and text, and (in a group, or quoting the linked number) who wrote it. */
  replyTo?: { id: string; text: string; participant?: string };
  mentions?: string[];
}

/**
 * The contact's phone sends `kind`: built as WhatsApp's apps build it (files uploaded encrypted
 * to the media host first, a vote encrypted with the poll's secret), then end-to-end encrypted to
 * each companion device of `phone`. Answers the message id.
 */
export async function sendAsContact(server: WhatsAppTestServer, to: ContactSend, what: ContactKind): Promise<string> {
  const chat = to.group ?? `${to.phone}@${SERVER}`;
  const contextInfo: proto.IContextInfo | undefined =
    to.replyTo || to.mentions
      ? {
          ...(to.replyTo ? { stanzaId: to.replyTo.id, participant: to.replyTo.participant ?? `${to.phone}@${SERVER}`, quotedMessage: { conversation: to.replyTo.text } } : {}),
          ...(to.mentions ? { mentionedJid: to.mentions.map((m) => `${m}@${SERVER}`) } : {}),
        }
      : undefined;
  let message: proto.IMessage;
  let stanzaType = 'text';
  let attrs: Record<string, string> | undefined;
  let file: { bytes: Buffer; type: MediaType; uploaded: Awaited<ReturnType<WhatsAppTestServer['contacts']['upload']>> } | undefined;
  switch (what.kind) {
    case 'text':
      message = contextInfo ? { extendedTextMessage: { text: what.text, contextInfo } } : { conversation: what.text };
      break;
    case 'image':
    case 'video':
    case 'audio':
    case 'document':
    case 'sticker': {
      const uploaded = await server.contacts.upload(what.file, what.kind);
      file = { bytes: what.file, type: what.kind, uploaded };
      if (what.expired) server.media.expire(uploaded.directPath);
      const common = { ...uploaded, mimetype: what.mimetype, ...(contextInfo ? { contextInfo } : {}) };
      stanzaType = 'media';
      if (what.kind === 'image') message = { imageMessage: { ...common, caption: what.caption } };
      else if (what.kind === 'video') message = { videoMessage: { ...common, caption: what.caption, seconds: what.seconds, gifPlayback: what.gif } };
      else if (what.kind === 'audio') message = { audioMessage: { ...common, seconds: what.seconds, ptt: what.ptt } };
      else if (what.kind === 'sticker') message = { stickerMessage: { ...common } };
      else if (what.caption) message = { documentWithCaptionMessage: { message: { documentMessage: { ...common, fileName: what.fileName, caption: what.caption } } } };
      else message = { documentMessage: { ...common, fileName: what.fileName } };
      break;
    }
    case 'location':
      message = { locationMessage: { degreesLatitude: what.latitude, degreesLongitude: what.longitude, name: what.name, address: what.address, ...(contextInfo ? { contextInfo } : {}) } };
      stanzaType = 'media';
      break;
    case 'contact': {
      const digits = what.phone.replace(/\D/g, '');
      const vcard = `BEGIN:VCARD\nVERSION:3.0\nFN:${what.name}\nTEL;type=CELL;waid=${digits}:+${digits}\nEND:VCARD`;
      message = { contactMessage: { displayName: what.name, vcard } };
      stanzaType = 'media';
      break;
    }
    case 'poll':
      message = {
        pollCreationMessageV3: { name: what.question, options: what.options.map((optionName) => ({ optionName })), selectableOptionsCount: what.multipleAnswers ? 0 : 1 },
        messageContextInfo: { messageSecret: Buffer.alloc(32, 7) },
      };
      stanzaType = 'poll';
      break;
    case 'reaction':
      message = { reactionMessage: { key: { remoteJid: chat, fromMe: what.fromMe === true, id: what.targetId }, text: what.emoji, senderTimestampMs: Date.now() } };
      stanzaType = 'reaction';
      break;
    case 'edit':
      message = { protocolMessage: { type: ProtocolType.MESSAGE_EDIT, key: { remoteJid: chat, fromMe: true, id: what.targetId }, editedMessage: { conversation: what.text }, timestampMs: Date.now() } };
      attrs = { edit: '1' };
      break;
    case 'revoke':
      message = { protocolMessage: { type: ProtocolType.REVOKE, key: { remoteJid: chat, fromMe: true, id: what.targetId } } };
      attrs = { edit: '7' };
      break;
    case 'vote': {
      const poll = server.received.find((m) => m.id === what.pollId);
      const secret = poll?.message?.messageContextInfo?.messageSecret;
      if (!poll || !secret) throw new Error(`no poll ${what.pollId} with a secret reached the contact`);
      const vote = encryptPollVote({ options: what.options, pollMsgId: what.pollId, pollCreatorJid: `${server.phoneOf(poll.from)}@${SERVER}`, voterJid: `${to.from}@${SERVER}`, pollEncKey: secret });
      message = { pollUpdateMessage: { pollCreationMessageKey: { remoteJid: chat, fromMe: false, id: what.pollId }, vote, senderTimestampMs: Date.now() } };
      stanzaType = 'poll';
      attrs = undefined;
      break;
    }
  }
  const id = await server.deliver({ from: to.from, phone: to.phone, group: to.group, pushName: to.pushName, lid: to.lid, message, stanzaType, attrs });
  if (file) server.contacts.remember(id, file.bytes, file.type, file.uploaded);
  return id;
}
