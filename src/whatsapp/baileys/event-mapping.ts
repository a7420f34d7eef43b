import {
  getContentType,
  isJidBroadcast,
  isJidGroup,
  isJidNewsletter,
  isJidStatusBroadcast,
  isLidUser,
  isPnUser,
  jidDecode,
  jidNormalizedUser,
  normalizeMessageContent,
  proto,
  toNumber,
  type MessageUserReceiptUpdate,
  type WAMessage,
  type WAMessageKey,
  type WAMessageUpdate,
} from 'baileys';
import type { IncomingMessage, IncomingSender, ReceiptKind } from '../driver.js';
import { kindFields } from './incoming-content.js';

/** Finds the phone number behind a `…@lid` id, when the session knows the mapping. */
export type LidResolver = (lid: string) => Promise<string | null>;

/** Content types that are plumbing, not something a person sent. */
const NOT_A_MESSAGE = new Set<string>(['protocolMessage', 'senderKeyDistributionMessage', 'messageContextInfo', 'reactionMessage', 'pollUpdateMessage', 'keepInChatMessage', 'encReactionMessage', 'encEventResponseMessage']);

const TYPE_NAMES: Record<string, string> = {
  conversation: 'text',
  extendedTextMessage: 'text',
  imageMessage: 'image',
  videoMessage: 'video',
  audioMessage: 'audio',
  documentMessage: 'document',
  documentWithCaptionMessage: 'document',
  stickerMessage: 'sticker',
  locationMessage: 'location',
  liveLocationMessage: 'location',
  contactMessage: 'contact',
  contactsArrayMessage: 'contact',
  pollCreationMessage: 'poll',
  pollCreationMessageV3: 'poll',
};

/**
 * A phone number's digits for a user id: `…@s.whatsapp.net` directly, `…@lid` through the
 * message's alternate id or the session's mapping. A `@lid` nobody can map stays as the full id,
 * so it is never mistaken for a phone number.
 */
export async function phoneOf(jid: string | null | undefined, alternate: string | null | undefined, resolveLid: LidResolver): Promise<string | null> {
  if (!jid) return null;
  const normal = jidNormalizedUser(jid);
  if (isPnUser(normal)) return jidDecode(normal)?.user ?? null;
  if (isLidUser(normal)) {
    if (alternate && isPnUser(jidNormalizedUser(alternate))) return jidDecode(jidNormalizedUser(alternate))?.user ?? null;
    const pn = await resolveLid(normal).catch(() => null);
    if (pn && isPnUser(jidNormalizedUser(pn))) return jidDecode(jidNormalizedUser(pn))?.user ?? null;
    return normal;
  }
  return normal;
}

function textOf(content: proto.IMessage, type: string): string | null {
  switch (type) {
    case 'conversation':
      return content.conversation ?? null;
    case 'extendedTextMessage':
      return content.extendedTextMessage?.text ?? null;
    case 'imageMessage':
      return content.imageMessage?.caption ?? null;
    case 'videoMessage':
      return content.videoMessage?.caption ?? null;
    case 'documentMessage':
      return content.documentMessage?.caption ?? null;
    case 'documentWithCaptionMessage':
      return content.documentWithCaptionMessage?.message?.documentMessage?.caption ?? null;
    default:
      return null;
  }
}

/**
 * An incoming message as the gateway raises it, or null for what is not one: our own messages
 * (echoes and what the owner typed on the phone), status broadcasts, newsletters, protocol and
 * history-sync messages, group notifications without content.
 */
export async function toIncoming(msg: WAMessage, resolveLid: LidResolver, now: number): Promise<IncomingMessage | null> {
  const key: WAMessageKey = msg.key;
  if (!key.id || key.fromMe || !isPersonOrGroupChat(key.remoteJid)) return null;
  if (msg.messageStubType) return null;
  const content = normalizeMessageContent(msg.message);
  if (!content) return null;
  const contentType = getContentType(content);
  if (!contentType || NOT_A_MESSAGE.has(contentType)) return null;
  const type = TYPE_NAMES[contentType] ?? contentType.replace(/Message$/, '');
  const sender = await senderOf(msg, resolveLid);
  if (!sender) return null;
  return {
    waMessageId: key.id,
    ...sender,
    type,
    text: textOf(content, contentType),
    at: timeOf(msg, now),
    ...kindFields(content),
  };
}

/** Chats whose messages are a person's or a group's (not status broadcasts, not newsletters). */
export function isPersonOrGroupChat(remote: string | null | undefined): remote is string {
  return !!remote && !isJidStatusBroadcast(remote) && !isJidBroadcast(remote) && !isJidNewsletter(remote);
}

export function timeOf(msg: WAMessage, now: number): number {
  const seconds = msg.messageTimestamp ? toNumber(msg.messageTimestamp) : 0;
  return seconds > 0 ? seconds * 1000 : now;
}

/** Who wrote a message: the phone number when it is known, and the LID beside it when WhatsApp named one. */
export async function senderOf(msg: WAMessage, resolveLid: LidResolver): Promise<IncomingSender | null> {
  const key = msg.key;
  const remote = key.remoteJid!;
  const isGroup = isJidGroup(remote) === true;
  const jid = isGroup ? key.participant : remote;
  const alternate = isGroup ? key.participantAlt : key.remoteJidAlt;
  const from = await phoneOf(jid, alternate, resolveLid);
  if (!from) return null;
  const lidOf = (j: string | null | undefined) => (j && isLidUser(jidNormalizedUser(j)) ? jidNormalizedUser(j) : null);
  return { from, fromLid: lidOf(jid) ?? lidOf(alternate), pushName: msg.pushName ?? null, groupId: isGroup ? remote : null, participant: isGroup ? from : null };
}

export interface Receipt {
  waMessageId: string;
  kind: ReceiptKind;
  at: number;
}

const Status = proto.WebMessageInfo.Status;

/** Delivery and read acks of our own messages, from `messages.update` (direct chats). */
export function receiptsFromUpdates(updates: WAMessageUpdate[], now: number): Receipt[] {
  const out: Receipt[] = [];
  for (const { key, update } of updates) {
    if (!key.fromMe || !key.id || typeof update.status !== 'number') continue;
    if (update.status === Status.DELIVERY_ACK) out.push({ waMessageId: key.id, kind: 'delivered', at: now });
    else if (update.status === Status.READ) out.push({ waMessageId: key.id, kind: 'read', at: now });
    else if (update.status === Status.PLAYED) out.push({ waMessageId: key.id, kind: 'played', at: now });
  }
  return out;
}

/** Per-recipient receipts from `message-receipt.update` (groups): the first delivery and read count. */
export function receiptsFromUserReceipts(updates: MessageUserReceiptUpdate[], now: number): Receipt[] {
  const out: Receipt[] = [];
  for (const { key, receipt } of updates) {
    if (!key.fromMe || !key.id) continue;
    const read = receipt.readTimestamp ?? receipt.playedTimestamp;
    if (receipt.receiptTimestamp) out.push({ waMessageId: key.id, kind: 'delivered', at: toNumber(receipt.receiptTimestamp) * 1000 || now });
    if (read) out.push({ waMessageId: key.id, kind: 'read', at: toNumber(read) * 1000 || now });
    if (receipt.playedTimestamp) out.push({ waMessageId: key.id, kind: 'played', at: toNumber(receipt.playedTimestamp) * 1000 || now });
  }
  return out;
}
