import { jidDecode, jidNormalizedUser, toNumber, type proto } from 'baileys';
import type { IncomingMessage } from '../driver.js';

/** A vCard's name, numbers, e-mail and organisation (the fields a contact card carries). */
export function parseVcard(vcard: string | null | undefined, displayName: string | null | undefined): { name: string; phones: string[]; email?: string; organization?: string } {
  const lines = (vcard ?? '').replace(/\r?\n[ \t]/g, '').split(/\r?\n/);
  const value = (line: string) => line.slice(line.indexOf(':') + 1).trim();
  const phones: string[] = [];
  let name = displayName ?? '';
  let email: string | undefined;
  let organization: string | undefined;
  for (const line of lines) {
    const head = line.slice(0, line.indexOf(':')).toUpperCase();
    if (head.startsWith('TEL')) {
      const waid = /waid=(\d+)/i.exec(head);
      phones.push(waid ? `+${waid[1]}` : value(line));
    } else if (head === 'FN' && !name) name = value(line);
    else if (head.startsWith('EMAIL') && !email) email = value(line);
    else if (head === 'ORG' && !organization) organization = value(line).replace(/;+$/, '');
  }
  return { name: name || 'Contact', phones, ...(email ? { email } : {}), ...(organization ? { organization } : {}) };
}

const digitsOf = (jid: string) => {
  const decoded = jidDecode(jidNormalizedUser(jid));
  return decoded?.server === 's.whatsapp.net' ? decoded.user : jidNormalizedUser(jid);
};

type MediaContent = proto.Message.IImageMessage | proto.Message.IVideoMessage | proto.Message.IAudioMessage | proto.Message.IDocumentMessage | proto.Message.IStickerMessage;

/** The media part of a message, if it has one, with its declared size (checked against the cap before downloading). */
export function mediaOf(content: proto.IMessage): { media: MediaContent; declaredBytes: number | null } | null {
  const media =
    content.imageMessage ?? content.videoMessage ?? content.audioMessage ?? content.documentMessage ?? content.documentWithCaptionMessage?.message?.documentMessage ?? content.stickerMessage ?? null;
  if (!media) return null;
  const length = media.fileLength == null ? null : toNumber(media.fileLength);
  return { media, declaredBytes: length };
}

/** What each kind carries beyond its text: file name, duration, voice/gif, place, cards, poll, quote, mentions. */
export function kindFields(content: proto.IMessage): Partial<IncomingMessage> {
  const fields: Partial<IncomingMessage> = {};
  const document = content.documentMessage ?? content.documentWithCaptionMessage?.message?.documentMessage;
  if (document) fields.fileName = document.fileName ?? null;
  if (content.audioMessage) {
    fields.voice = content.audioMessage.ptt === true;
    fields.durationSeconds = content.audioMessage.seconds ?? null;
  }
  if (content.videoMessage) {
    fields.durationSeconds = content.videoMessage.seconds ?? null;
    if (content.videoMessage.gifPlayback) fields.gif = true;
  }
  const place = content.locationMessage ?? content.liveLocationMessage;
  if (place && place.degreesLatitude != null && place.degreesLongitude != null) {
    const named = content.locationMessage;
    fields.location = {
      latitude: place.degreesLatitude,
      longitude: place.degreesLongitude,
      ...(named?.name ? { name: named.name } : {}),
      ...(named?.address ? { address: named.address } : {}),
    };
  }
  if (content.contactMessage) fields.contacts = [parseVcard(content.contactMessage.vcard, content.contactMessage.displayName)];
  if (content.contactsArrayMessage) fields.contacts = (content.contactsArrayMessage.contacts ?? []).map((c) => parseVcard(c.vcard, c.displayName));
  const poll = content.pollCreationMessage ?? content.pollCreationMessageV2 ?? content.pollCreationMessageV3;
  if (poll) {
    fields.poll = { question: poll.name ?? '', options: (poll.options ?? []).map((o) => o.optionName ?? ''), multipleAnswers: (poll.selectableOptionsCount ?? 0) !== 1 };
  }
  const context = contextOf(content);
  if (context?.stanzaId) {
    fields.quoted = { waMessageId: context.stanzaId, participant: context.participant ?? null };
  }
  if (context?.mentionedJid && context.mentionedJid.length > 0) fields.mentions = context.mentionedJid.map(digitsOf);
  return fields;
}

function contextOf(content: proto.IMessage): proto.IContextInfo | null | undefined {
  for (const value of Object.values(content)) {
    if (value && typeof value === 'object' && 'contextInfo' in value) return (value as { contextInfo?: proto.IContextInfo | null }).contextInfo;
  }
  return null;
}
