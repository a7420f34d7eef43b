import { createHash } from 'node:crypto';
import type { IncomingMessage } from './driver-port.js';
import type { GatewayEvent, MediaRef, ReceivedMessage } from './events.js';
import { newId, newMessageId } from './ids.js';
import { linkLifetime, publicBase, type InboundDeps } from './inbound-deps.js';
import type { MessageContent } from './message-content.js';
import { senderFields } from './inbound-sender.js';
import { withKnownNumber } from './lid-mappings.js';
import { STORED_TEXT_LIMITS, storableText } from './storable-text.js';

const MEDIA_KINDS = new Set(['image', 'video', 'audio', 'document', 'sticker']);

interface KeptMedia {
  id: string;
  bytes: Buffer;
  data: Buffer | null;
  mimetype: string;
  sha256: string;
  fileName: string | null;
}

/**
 * A message someone sent to the linked number: kept in the account's log (an inbox on every plan,
 * `direction` 'in'), its file kept too, and a `message.received` event raised (SPEC §5, §11), all
 * in one transaction. The file is on disk (or in the row) before that commit; a message seen twice
 * (WhatsApp redelivers) is kept and announced once. Answers the message's id in the log.
 */
export async function recordIncoming(deps: InboundDeps, accountId: string, message: IncomingMessage, now: number): Promise<string> {
  const { store } = deps;
  const seen = await findReceived(deps, accountId, message.waMessageId);
  if (seen) return seen;
  let mediaError = message.mediaError;
  let kept: KeptMedia | null = null;
  if (message.media) {
    const { bytes } = message.media;
    const cap = deps.config.inboundMedia.maxBytes;
    if (bytes.length > cap) {
      mediaError = `The file is ${bytes.length} bytes, above this server's limit of ${cap} bytes (INBOUND_MEDIA_MAX_BYTES), so it was not kept.`;
    } else {
      const id = newId('med');
      kept = {
        id,
        bytes,
        data: await deps.media.prepare(accountId, id, bytes),
        mimetype: storableText(message.media.mimetype, 200),
        sha256: createHash('sha256').update(bytes).digest('hex'),
        fileName: storableText(message.media.fileName ?? message.fileName ?? null, STORED_TEXT_LIMITS.name),
      };
    }
  }

  const text = storableText(message.text, STORED_TEXT_LIMITS.text);
  return store.write(async (tx) => {
    const from = senderFields(await withKnownNumber(tx, accountId, message, now));
    const again = await tx.selectFrom('messages').select('id').where('account_id', '=', accountId).where('wa_message_id', '=', message.waMessageId).where('direction', '=', 'in').executeTakeFirst();
    if (again) return again.id;
    const account = await tx.selectFrom('accounts').select('inline_media_max_bytes').where('id', '=', accountId).executeTakeFirst();
    if (!account) return '';
    let quoted: ReceivedMessage['quoted'] = null;
    if (message.quoted) {
      const row = await tx
        .selectFrom('messages')
        .select(['id', 'kind', 'text'])
        .where('account_id', '=', accountId)
        .where('wa_message_id', '=', message.quoted.waMessageId)
        .executeTakeFirst();
      quoted = {
        id: message.quoted.waMessageId,
        messageId: row?.id ?? null,
        type: row?.kind ?? message.quoted.type ?? null,
        text: row ? row.text : storableText(message.quoted.text ?? null, STORED_TEXT_LIMITS.text),
      };
    }
    const mentions = (message.mentions ?? []).map((m) => storableText(m, 64));
    const messageId = newMessageId();
    const content: MessageContent = {
      inbound: { from: from.from, fromLid: from.fromLid, pushName: from.pushName, groupId: from.groupId, participant: from.participant },
    };
    if (kept) {
      content.mediaId = kept.id;
      content.media = { mimetype: kept.mimetype, size: kept.bytes.length, sha256: kept.sha256 };
    }
    if (MEDIA_KINDS.has(message.type)) content.mediaFileName = kept?.fileName ?? storableText(message.fileName ?? null, STORED_TEXT_LIMITS.name);
    if (mediaError) content.mediaError = mediaError;
    if (message.durationSeconds != null) content.durationSeconds = message.durationSeconds;
    if (message.voice) content.voice = true;
    if (message.gif) content.gif = true;
    if (message.location) content.location = message.location;
    if (message.contacts) content.contacts = message.contacts;
    if (message.poll) content.poll = { ...message.poll, secret: '' };
    if (quoted) content.quoted = { waMessageId: quoted.id, messageId: quoted.messageId, type: quoted.type, text: quoted.text };
    if (mentions.length > 0) content.mentions = mentions;

    await tx
      .insertInto('messages')
      .values({
        id: messageId,
        account_id: accountId,
        recipient: message.groupId ?? from.from,
        kind: message.type,
        text,
        media_url: null,
        filename: content.mediaFileName ?? null,
        content: JSON.stringify(content),
        status: 'received',
        error: null,
        wa_message_id: message.waMessageId,
        created_at: now,
        sent_at: message.at,
        delivered_at: null,
        read_at: null,
        edited_at: null,
        revoked_at: null,
        direction: 'in',
        sender: from.from,
        played_at: null,
      })
      .execute();

    let media: MediaRef | null | undefined;
    if (kept) {
      await tx
        .insertInto('inbound_media')
        .values({ id: kept.id, account_id: accountId, message_id: messageId, mimetype: kept.mimetype, size: kept.bytes.length, sha256: kept.sha256, file_name: kept.fileName, storage: deps.media.storage, data: kept.data, created_at: now })
        .execute();
      const expiresAt = now + linkLifetime(deps.config.inboundMedia.retentionDays);
      media = { id: kept.id, mimetype: kept.mimetype, size: kept.bytes.length, sha256: kept.sha256, fileName: kept.fileName, url: deps.links.url(publicBase(deps.config), kept.id, expiresAt), urlExpiresAt: new Date(expiresAt).toISOString() };
      const inline = Math.min(Number(account.inline_media_max_bytes), deps.config.inboundMedia.inlineMaxBytes);
      if (kept.bytes.length <= inline) media.base64 = kept.bytes.toString('base64');
    } else if (MEDIA_KINDS.has(message.type)) {
      media = null;
    }

    const received: ReceivedMessage = {
      id: message.waMessageId,
      messageId,
      ...from,
      type: message.type,
      text,
      timestamp: new Date(message.at).toISOString(),
      quoted,
      mentions,
    };
    if (MEDIA_KINDS.has(message.type)) {
      received.caption = text;
      received.fileName = content.mediaFileName ?? null;
      received.media = media ?? null;
      if (mediaError) received.mediaError = mediaError;
    }
    if (message.type === 'audio' || message.type === 'video') received.durationSeconds = message.durationSeconds ?? null;
    if (message.type === 'audio') received.voice = message.voice === true;
    if (message.type === 'video' && message.gif) received.gif = true;
    if (message.location) received.location = message.location;
    if (message.contacts) received.contacts = message.contacts;
    if (message.poll) received.poll = message.poll;
    const event: GatewayEvent = { event: 'message.received', message: received };
    await deps.events.record(tx, accountId, event, now);
    return messageId;
  });
}

async function findReceived(deps: InboundDeps, accountId: string, waMessageId: string): Promise<string | null> {
  const row = await deps.store.db.selectFrom('messages').select('id').where('account_id', '=', accountId).where('wa_message_id', '=', waMessageId).where('direction', '=', 'in').executeTakeFirst();
  return row?.id ?? null;
}
