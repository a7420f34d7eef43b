/**
 * What a message carries beyond its text and media URL (SPEC §11), stored as JSON in
 * `messages.content` and handed to the driver as it is. One shape for every kind; each kind
 * fills its own part.
 */
export type MessageKind = 'text' | 'image' | 'document' | 'video' | 'audio' | 'sticker' | 'location' | 'contact' | 'poll' | 'reaction' | 'edit' | 'revoke';
export type MediaMessageKind = 'image' | 'document' | 'video' | 'audio' | 'sticker';

export const MEDIA_KINDS: ReadonlySet<MessageKind> = new Set<MessageKind>(['image', 'document', 'video', 'audio', 'sticker']);

export function isMediaKind(kind: string): kind is MediaMessageKind {
  return MEDIA_KINDS.has(kind as MessageKind);
}

export interface LocationContent {
  latitude: number;
  longitude: number;
  name?: string;
  address?: string;
}

export interface ContactCard {
  name: string;
  phones: string[];
  email?: string;
  organization?: string;
}

export interface PollContent {
  question: string;
  options: string[];
  multipleAnswers: boolean;
  /** 32 random bytes (base64), fixed at acceptance: votes are encrypted with it, and a retry re-sends the same poll. */
  secret: string;
}

/** A message of the account's own log that another message points at (a reply's quote, a reaction's target). */
export interface MessageReference {
  messageId: string;
  waMessageId: string;
  /** The chat: digits or a group id. */
  chat: string;
  fromMe: boolean;
  /** Who wrote it in a group (its jid), when not us. */
  participant?: string;
  kind: string;
  text: string | null;
  /** When it was sent (edit and delete windows run from here). */
  sentAt?: number;
}

export interface MediaSummary {
  mimetype: string;
  size: number;
  sha256: string;
}

export interface MessageContent {
  gif?: boolean;
  voice?: boolean;
  location?: LocationContent;
  contacts?: ContactCard[];
  poll?: PollContent;
  reaction?: { target: MessageReference; emoji: string };
  /** An edit's target; the new text is the edit's own text. */
  edit?: { target: MessageReference };
  /** A delete-for-everyone's target. */
  revoke?: { target: MessageReference };
  replyTo?: MessageReference;
  /** Digits of the mentioned numbers. */
  mentions?: string[];
  mentionAll?: boolean;
  /** The bytes that went out, filled in once the media was fetched (for a received message: the bytes that came in). */
  media?: MediaSummary;
  /** A received message only: who wrote it, and in which chat. */
  inbound?: InboundOrigin;
  /** A received message's stored file (inbound_media.id) and its declared name. */
  mediaId?: string;
  mediaFileName?: string | null;
  /** Why a received message's file was not kept. */
  mediaError?: string;
  durationSeconds?: number | null;
  /** The message a received one replies to (its WhatsApp id, and our log's id when we have it). */
  quoted?: { waMessageId: string; messageId: string | null; type: string | null; text: string | null };
}

export interface InboundOrigin {
  from: string;
  fromLid: string | null;
  pushName: string | null;
  groupId: string | null;
  participant: string | null;
}

export function parseContent(raw: string | null): MessageContent {
  if (raw === null || raw === '') return {};
  try {
    const value = JSON.parse(raw) as unknown;
    return value && typeof value === 'object' ? (value as MessageContent) : {};
  } catch {
    return {};
  }
}

/** Calls that put something in a chat without being a message of their own do not count toward the daily limit. */
export function countsTowardLimit(kind: MessageKind): boolean {
  return kind !== 'reaction' && kind !== 'edit' && kind !== 'revoke';
}

/** The kinds that act on another message of the log: their chat is their target's. */
export function actsOnAnother(kind: MessageKind): boolean {
  return kind === 'reaction' || kind === 'edit' || kind === 'revoke';
}

/** WhatsApp lets a sender edit for about 15 minutes and delete for everyone for about 2 days. */
export const EDIT_WINDOW_MS = 15 * 60 * 1000;
export const REVOKE_WINDOW_MS = 48 * 60 * 60 * 1000;
