import { Type, type Static } from '@sinclair/typebox';
import { AppError } from '../core/errors.js';
import type { IncomingChange, IncomingMessage, IncomingSender } from '../core/driver-port.js';
import { parseRecipient } from '../core/recipients.js';
import type { Store } from '../store/store.js';
import { ContactSchema } from './message-content-schema.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export const INCOMING_TYPES = ['text', 'image', 'video', 'audio', 'voice', 'document', 'sticker', 'location', 'contact', 'contacts', 'poll', 'reaction', 'edit', 'revoke', 'poll_vote'] as const;

/** SPEC §11 sandbox additions: every kind someone may send, and what they may do to earlier messages. */
export const IncomingBody = Type.Object({
  from: Type.String({ maxLength: 40, description: 'The sender: a phone number, or a LID (`<digits>@lid`) for a sender whose number WhatsApp did not say' }),
  type: Type.Optional(Type.Union(INCOMING_TYPES.map((t) => Type.Literal(t)), { description: 'Default text' })),
  text: Type.Optional(Type.String({ maxLength: 65_536 })),
  caption: Type.Optional(Type.String({ maxLength: 65_536 })),
  media: Type.Optional(Type.String({ maxLength: 200 * 1024 * 1024, description: 'The file: a data URL (data:<mime>;base64,…) or plain base64 with mimetype' })),
  mimetype: Type.Optional(Type.String({ maxLength: 200 })),
  fileName: Type.Optional(Type.String({ maxLength: 256 })),
  durationSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400 })),
  gif: Type.Optional(Type.Boolean()),
  latitude: Type.Optional(Type.Number({ minimum: -90, maximum: 90 })),
  longitude: Type.Optional(Type.Number({ minimum: -180, maximum: 180 })),
  name: Type.Optional(Type.String({ maxLength: 1000, description: "A location's name" })),
  address: Type.Optional(Type.String({ maxLength: 1000 })),
  contacts: Type.Optional(Type.Array(ContactSchema, { minItems: 1, maxItems: 20 })),
  poll: Type.Optional(Type.Object({ question: Type.String({ minLength: 1, maxLength: 255 }), options: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { minItems: 2, maxItems: 12 }), multipleAnswers: Type.Optional(Type.Boolean()) })),
  messageId: Type.Optional(Type.String({ maxLength: 100, description: 'reaction, edit, revoke, poll_vote: the message acted on (its messageId or WhatsApp id)' })),
  emoji: Type.Optional(Type.String({ maxLength: 32, description: 'reaction: the emoji, "" to remove it' })),
  options: Type.Optional(Type.Array(Type.String({ maxLength: 100 }), { maxItems: 12, description: 'poll_vote: the chosen option names' })),
  replyTo: Type.Optional(Type.String({ maxLength: 100, description: 'The message this one replies to (its messageId or WhatsApp id)' })),
  mentions: Type.Optional(Type.Array(Type.String({ maxLength: 32 }), { maxItems: 50 })),
  groupId: Type.Optional(Type.String({ maxLength: 64 })),
  pushName: Type.Optional(Type.String({ maxLength: 100 })),
  fromLid: Type.Optional(Type.String({ maxLength: 64, pattern: '^\\d{1,30}@lid$' })),
});
export type IncomingInput = Static<typeof IncomingBody>;

const DATA_URL = /^data:([\w.+-]+\/[\w.+-]+)(?:;[\w=.+-]+)*;base64,/i;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function decodeMedia(input: IncomingInput): { bytes: Buffer; mimetype: string } {
  const raw = input.media!;
  const match = DATA_URL.exec(raw);
  const mimetype = match ? match[1]!.toLowerCase() : input.mimetype;
  if (!mimetype) throw new AppError('missing_parameter', 'Missing required parameter: mimetype (or give media as a data URL, data:<mime>;base64,…)');
  const body = (match ? raw.slice(match[0].length) : raw).replace(/\s+/g, '');
  if (!BASE64.test(body) || body.length % 4 === 1) throw new AppError('invalid_parameter', 'Invalid parameter: media must be base64 (or a data URL, data:<mime>;base64,…).');
  return { bytes: Buffer.from(body, 'base64'), mimetype };
}

/** A messageId of the account's log, or a WhatsApp id of it: the WhatsApp id the network would name. */
async function targetWaId(store: Store, accountId: string, id: string | undefined, parameter: string): Promise<string> {
  if (!id) throw new AppError('missing_parameter', `Missing required parameter: ${parameter}`);
  const row = await store.db
    .selectFrom('messages')
    .select('wa_message_id')
    .where('account_id', '=', accountId)
    .where((eb) => eb.or([eb('id', '=', id), eb('wa_message_id', '=', id)]))
    .executeTakeFirst();
  if (!row) throw new AppError('not_found', `No message with id ${id} in this account (${parameter}).`);
  return row.wa_message_id;
}

export type SandboxArrival = { message: Omit<IncomingMessage, 'waMessageId' | 'at'> } | { change: DistributiveOmit<IncomingChange, 'at'> };

/** Turns the request into what the real driver would report. */
export async function readIncoming(store: Store, accountId: string, input: IncomingInput): Promise<SandboxArrival> {
  const from = parseRecipient(input.from);
  if (from.isGroup) throw new AppError('invalid_parameter', 'Invalid parameter: from must be a phone number; put the group in groupId.');
  let groupId: string | null = null;
  if (input.groupId !== undefined) {
    const group = parseRecipient(input.groupId);
    if (!group.isGroup) throw new AppError('invalid_parameter', 'Invalid parameter: groupId must be a group id ending in @g.us.');
    groupId = group.value;
  }
  // A LID alone is what WhatsApp gives for a sender who hides their number; beside a number, it maps the two.
  const fromLid = input.fromLid ?? (from.isLid ? from.value : null);
  const sender: IncomingSender = { from: from.value, fromLid, pushName: input.pushName ?? null, groupId, participant: groupId ? from.value : null };
  const type = input.type ?? 'text';
  switch (type) {
    case 'reaction':
      if (input.emoji === undefined) throw new AppError('missing_parameter', 'Missing required parameter: emoji');
      return { change: { kind: 'reaction', targetWaMessageId: await targetWaId(store, accountId, input.messageId, 'messageId'), emoji: input.emoji, ...sender } };
    case 'edit':
      if (input.text === undefined) throw new AppError('missing_parameter', 'Missing required parameter: text');
      return { change: { kind: 'edit', targetWaMessageId: await targetWaId(store, accountId, input.messageId, 'messageId'), text: input.text, ...sender } };
    case 'revoke':
      return { change: { kind: 'revoke', targetWaMessageId: await targetWaId(store, accountId, input.messageId, 'messageId'), ...sender } };
    case 'poll_vote':
      if (!input.options) throw new AppError('missing_parameter', 'Missing required parameter: options');
      return { change: { kind: 'poll_vote', pollWaMessageId: await targetWaId(store, accountId, input.messageId, 'messageId'), selectedOptions: input.options, ...sender } };
  }
  const message: Omit<IncomingMessage, 'waMessageId' | 'at'> = { ...sender, type, text: null };
  if (input.replyTo !== undefined) message.quoted = { waMessageId: await targetWaId(store, accountId, input.replyTo, 'replyTo') };
  if (input.mentions) message.mentions = input.mentions.map((m) => parseRecipient(m).value);
  switch (type) {
    case 'text':
      if (input.text === undefined) throw new AppError('missing_parameter', 'Missing required parameter: text');
      message.text = input.text;
      break;
    case 'location':
      if (input.latitude === undefined || input.longitude === undefined) throw new AppError('missing_parameter', `Missing required parameter: ${input.latitude === undefined ? 'latitude' : 'longitude'}`);
      message.location = { latitude: input.latitude, longitude: input.longitude, ...(input.name ? { name: input.name } : {}), ...(input.address ? { address: input.address } : {}) };
      break;
    case 'contact':
    case 'contacts':
      if (!input.contacts) throw new AppError('missing_parameter', 'Missing required parameter: contacts');
      message.type = 'contact';
      message.contacts = input.contacts;
      break;
    case 'poll':
      if (!input.poll) throw new AppError('missing_parameter', 'Missing required parameter: poll');
      message.poll = { question: input.poll.question, options: input.poll.options, multipleAnswers: input.poll.multipleAnswers === true };
      break;
    default: {
      // image, video, audio, voice, document, sticker
      if (input.media === undefined) throw new AppError('missing_parameter', 'Missing required parameter: media');
      const media = decodeMedia(input);
      message.type = type === 'voice' ? 'audio' : type;
      if (type === 'voice') message.voice = true;
      if (type === 'video' && input.gif) message.gif = true;
      message.text = input.caption ?? input.text ?? null;
      message.media = { ...media, fileName: input.fileName ?? null };
      message.fileName = input.fileName ?? null;
      if (input.durationSeconds !== undefined) message.durationSeconds = input.durationSeconds;
    }
  }
  return { message };
}
