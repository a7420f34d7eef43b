import { randomBytes } from 'node:crypto';
import type { Store } from '../store/store.js';
import { AppError } from './errors.js';
import { EDIT_WINDOW_MS, parseContent, REVOKE_WINDOW_MS, type ContactCard, type LocationContent, type MessageContent, type MessageKind, type MessageReference } from './message-content.js';
import { parseRecipient, type Recipient } from './recipients.js';

/** The kind-specific part of a send request, as the endpoints take it. */
export interface SendExtras {
  replyTo?: string;
  mentions?: string[];
  gif?: boolean;
  voice?: boolean;
  location?: LocationContent;
  contacts?: ContactCard[];
  poll?: { question: string; options: string[]; multipleAnswers?: boolean };
  reaction?: { messageId: string; emoji: string };
  /** The message an edit or a delete-for-everyone acts on. */
  target?: string;
}

const MENTION_ALL = '@all';
const EDITABLE: ReadonlySet<string> = new Set(['text', 'image', 'video', 'document']);

function checkWindow(target: MessageReference, now: number, windowMs: number, done: string, span: string): void {
  const sentAt = target.sentAt ?? now;
  if (now - sentAt > windowMs) {
    const ago = Math.round((now - sentAt) / 60_000);
    throw new AppError('invalid_parameter', `Message ${target.messageId} was sent ${ago} minutes ago: WhatsApp lets a message be ${done} for ${span} after sending, so it can no longer be.`);
  }
}
const CAPTIONED: ReadonlySet<MessageKind> = new Set<MessageKind>(['text', 'image', 'document', 'video']);

const segmenter = new Intl.Segmenter('en', { granularity: 'grapheme' });

function isOneEmoji(value: string): boolean {
  const graphemes = [...segmenter.segment(value)];
  return graphemes.length === 1 && /\p{Extended_Pictographic}|\p{Regional_Indicator}/u.test(value);
}

/**
 * A message of the account's own log, sent or received; another account's id answers exactly like
 * an unknown one. A received message is quoted or reacted to under its sender's key (in a group,
 * the participant who wrote it).
 */
export async function findReference(store: Store, accountId: string, messageId: string, parameter: string): Promise<MessageReference> {
  const row = await store.db
    .selectFrom('messages')
    .select(['id', 'wa_message_id', 'recipient', 'kind', 'text', 'status', 'sent_at', 'revoked_at', 'direction', 'content'])
    .where('id', '=', messageId)
    .where('account_id', '=', accountId)
    .executeTakeFirst();
  if (!row) throw new AppError('not_found', `No message with id ${messageId} in this account (${parameter}).`);
  if (row.status !== 'sent' && row.status !== 'received') {
    throw new AppError('invalid_parameter', `Invalid parameter: ${parameter} — message ${messageId} is ${row.status}, not sent, so WhatsApp has nothing to point at.`);
  }
  if (row.revoked_at !== null) throw new AppError('invalid_parameter', `Invalid parameter: ${parameter} — message ${messageId} was deleted for everyone.`);
  const reference: MessageReference = { messageId: row.id, waMessageId: row.wa_message_id, chat: row.recipient, fromMe: row.direction !== 'in', kind: row.kind, text: row.text, sentAt: row.sent_at ?? undefined };
  if (row.direction === 'in') {
    const origin = parseContent(row.content).inbound;
    if (origin?.groupId) reference.participant = /^\d+$/.test(origin.from) ? `${origin.from}@s.whatsapp.net` : (origin.fromLid ?? origin.from);
  }
  return reference;
}

/**
 * Checks what the schemas cannot (distinct poll options, mentions only in groups, a quote or
 * reaction target in the same chat) and turns the request's extras into the stored content.
 * A reaction's chat is its target's, so it needs no recipient.
 */
export async function resolveContent(
  store: Store,
  accountId: string,
  kind: MessageKind,
  recipient: Recipient | null,
  extras: SendExtras,
  now: number,
): Promise<{ recipient: Recipient; content: MessageContent }> {
  const content: MessageContent = {};
  if (kind === 'edit' || kind === 'revoke') {
    const target = await findReference(store, accountId, extras.target ?? '', 'id');
    if (!target.fromMe) throw new AppError('invalid_parameter', `Invalid parameter: id — message ${target.messageId} was received, not sent by this account: only its sender can ${kind === 'edit' ? 'edit' : 'delete'} it.`);
    if (kind === 'edit') {
      if (!EDITABLE.has(target.kind)) throw new AppError('invalid_parameter', `Invalid parameter: id — a ${target.kind} message has no text or caption to edit.`);
      checkWindow(target, now, EDIT_WINDOW_MS, 'edited', 'about 15 minutes');
      content.edit = { target };
    } else {
      if (target.kind === 'reaction' || target.kind === 'edit' || target.kind === 'revoke') {
        throw new AppError('invalid_parameter', `Invalid parameter: id — a ${target.kind} is not a message that can be deleted; send another reaction or edit instead.`);
      }
      checkWindow(target, now, REVOKE_WINDOW_MS, 'deleted for everyone', 'about 2 days');
      content.revoke = { target };
    }
    return { recipient: parseRecipient(target.chat), content };
  }
  if (kind === 'reaction') {
    const reaction = extras.reaction;
    if (!reaction) throw new AppError('missing_parameter', 'Missing required parameter: messageId');
    if (reaction.emoji !== '' && !isOneEmoji(reaction.emoji)) {
      throw new AppError('invalid_parameter', 'Invalid parameter: emoji — give one emoji (such as 👍), or "" to remove the reaction.');
    }
    const target = await findReference(store, accountId, reaction.messageId, 'messageId');
    content.reaction = { target, emoji: reaction.emoji };
    return { recipient: parseRecipient(target.chat), content };
  }
  if (!recipient) throw new AppError('missing_parameter', 'Missing required parameter: recipient');
  if (kind === 'video' && extras.gif) content.gif = true;
  if (kind === 'audio') content.voice = extras.voice === true;
  if (kind === 'location') content.location = extras.location;
  if (kind === 'contact') content.contacts = extras.contacts;
  if (kind === 'poll' && extras.poll) {
    const options = extras.poll.options.map((o) => o.trim());
    if (new Set(options).size !== options.length || options.some((o) => o === '')) {
      throw new AppError('invalid_parameter', 'Invalid parameter: options — each poll option must be non-empty and different from the others.');
    }
    content.poll = { question: extras.poll.question, options, multipleAnswers: extras.poll.multipleAnswers === true, secret: randomBytes(32).toString('base64') };
  }
  if (extras.replyTo !== undefined) {
    const quoted = await findReference(store, accountId, extras.replyTo, 'replyTo');
    if (quoted.chat !== recipient.value) {
      throw new AppError('invalid_parameter', `Invalid parameter: replyTo — message ${extras.replyTo} is in another chat (${quoted.chat}); a reply quotes a message of the same chat.`);
    }
    content.replyTo = quoted;
  }
  if (extras.mentions !== undefined && extras.mentions.length > 0) {
    if (!CAPTIONED.has(kind)) throw new AppError('invalid_parameter', `Invalid parameter: mentions — a ${kind} has no text to mention anyone in.`);
    if (!recipient.isGroup) throw new AppError('invalid_parameter', 'Invalid parameter: mentions — mentions work in groups only.');
    const numbers = new Set<string>();
    for (const mention of extras.mentions) {
      if (mention.trim().toLowerCase() === MENTION_ALL) {
        content.mentionAll = true;
        continue;
      }
      const parsed = parseRecipient(mention);
      if (parsed.isGroup) throw new AppError('invalid_parameter', `Invalid parameter: mentions — ${mention} is a group, not a number.`);
      numbers.add(parsed.value);
    }
    if (numbers.size > 0) content.mentions = [...numbers];
  }
  return { recipient, content };
}
