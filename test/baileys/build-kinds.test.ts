import { createHash } from 'node:crypto';
import type { WAMediaUploadFunction } from 'baileys';
import { describe, expect, it } from 'vitest';
import type { MessageReference } from '../../src/core/message-content.js';
import type { OutgoingMessage } from '../../src/whatsapp/driver.js';
import { buildMessage } from '../../src/whatsapp/baileys/build-message.js';
import { vcardOf } from '../../src/whatsapp/baileys/build-contact.js';
import { protocolAttributes } from '../../src/whatsapp/baileys/build-protocol.js';
import { stanzaExtras } from '../../src/whatsapp/baileys/stanza-extras.js';
import { mp4Seconds } from '../../src/whatsapp/baileys/mp4-duration.js';
import { sampleMp3, sampleMp4, sampleOpus, sampleWav, sampleWebp } from '../helpers/media-samples.js';

const USER = '15550000001:1@s.whatsapp.net';
const TO = '12125551234@s.whatsapp.net';
const GROUP = '120363012345678901@g.us';
const upload: WAMediaUploadFunction = async (_path, opts) => ({ mediaUrl: `https://mmg.example.test/${opts.mediaType}/x.enc`, directPath: `/v/t62/${opts.mediaType}/x.enc` });

function outgoing(extra: Partial<OutgoingMessage>): OutgoingMessage {
  return { id: 'msg_1', accountId: 'acc_1', recipient: '12125551234', kind: 'text', text: null, filename: null, waMessageId: '3EB0AAAAAAAAAAAAAAAA', createdAt: Date.UTC(2026, 10, 30, 6, 0, 0), ...extra };
}
const build = (m: OutgoingMessage, jid = TO) => buildMessage(jid, m, { userJid: USER, upload });
const ref: MessageReference = { messageId: 'msg_0', waMessageId: '3EB0BBBBBBBBBBBBBBBB', chat: '12125551234', fromMe: true, kind: 'text', text: 'the original' };

describe('each kind as WhatsApp messages, built by Baileys under our id', () => {
  it('video, and a GIF with gifPlayback, with the caption and the hash of our bytes', async () => {
    const bytes = sampleMp4();
    const gif = await build(outgoing({ kind: 'video', text: 'loop', media: { bytes, mimetype: 'video/mp4' }, content: { gif: true } }));
    expect(gif.key.id).toBe('3EB0AAAAAAAAAAAAAAAA');
    expect(gif.message?.videoMessage).toMatchObject({ mimetype: 'video/mp4', caption: 'loop', gifPlayback: true });
    expect(Buffer.from(gif.message!.videoMessage!.fileSha256!).toString('hex')).toBe(createHash('sha256').update(bytes).digest('hex'));
    const plain = await build(outgoing({ kind: 'video', media: { bytes, mimetype: 'video/mp4' }, content: {} }));
    expect(plain.message?.videoMessage?.gifPlayback ?? false).toBe(false);
    // The length WhatsApp shows comes from the movie header; a file without one goes without it.
    expect(plain.message?.videoMessage?.seconds ?? null).toBeNull();
    const long = await build(outgoing({ kind: 'video', media: { bytes: sampleMp4(7.4), mimetype: 'video/mp4' }, content: {} }));
    expect(long.message?.videoMessage?.seconds).toBe(7);
  });

  it('a voice note as ptt OGG/Opus with its duration, and an audio file without ptt', async () => {
    const voice = await build(outgoing({ kind: 'audio', media: { bytes: sampleOpus(7), mimetype: 'audio/ogg; codecs=opus' }, content: { voice: true } }));
    expect(voice.message?.audioMessage).toMatchObject({ ptt: true, mimetype: 'audio/ogg; codecs=opus', seconds: 7 });
    const song = await build(outgoing({ kind: 'audio', media: { bytes: sampleMp3(), mimetype: 'audio/mpeg' }, content: { voice: false } }));
    expect(song.message?.audioMessage).toMatchObject({ mimetype: 'audio/mpeg' });
    expect(song.message?.audioMessage?.ptt ?? false).toBe(false);
  });

  it('an MP3 or a WAV file carries the seconds WhatsApp shows, as the OGG does', async () => {
    const mp3 = await build(outgoing({ kind: 'audio', media: { bytes: sampleMp3(5), mimetype: 'audio/mpeg' }, content: { voice: false } }));
    expect(mp3.message?.audioMessage).toMatchObject({ mimetype: 'audio/mpeg', seconds: 5 });
    const wav = await build(outgoing({ kind: 'audio', media: { bytes: sampleWav(3), mimetype: 'audio/wav' }, content: { voice: false } }));
    expect(wav.message?.audioMessage).toMatchObject({ mimetype: 'audio/wav', seconds: 3 });
  });

  it('a sticker', async () => {
    const msg = await build(outgoing({ kind: 'sticker', media: { bytes: sampleWebp(), mimetype: 'image/webp' }, content: {} }));
    expect(msg.message?.stickerMessage).toMatchObject({ mimetype: 'image/webp', isAnimated: false });
  });

  it('a location', async () => {
    const msg = await build(outgoing({ kind: 'location', content: { location: { latitude: 52.52, longitude: 13.405, name: 'Berlin', address: 'Pariser Platz' } } }));
    expect(msg.message?.locationMessage).toMatchObject({ degreesLatitude: 52.52, degreesLongitude: 13.405, name: 'Berlin', address: 'Pariser Platz' });
  });

  it('one contact as contactMessage, several as contactsArrayMessage, with our vCards', async () => {
    const ada = { name: 'Ada; Lovelace', phones: ['+44 20 7946 0000'], email: 'ada@example.com', organization: 'Engines' };
    const one = await build(outgoing({ kind: 'contact', content: { contacts: [ada] } }));
    expect(one.message?.contactMessage?.vcard).toBe(vcardOf(ada));
    expect(vcardOf(ada)).toContain('TEL;type=CELL;waid=442079460000:+44 20 7946 0000');
    expect(vcardOf(ada)).toContain('FN:Ada\\; Lovelace');
    const two = await build(outgoing({ kind: 'contact', content: { contacts: [ada, { name: 'Alan', phones: ['12125551234'] }] } }));
    expect(two.message?.contactsArrayMessage?.contacts).toHaveLength(2);
  });

  it('a poll under the stored secret (single choice → V3, multiple → the multi-select version)', async () => {
    const secret = Buffer.alloc(32, 7).toString('base64');
    const single = await build(outgoing({ kind: 'poll', content: { poll: { question: 'Lunch?', options: ['Pizza', 'Sushi'], multipleAnswers: false, secret } } }));
    expect(single.message?.pollCreationMessageV3).toMatchObject({ name: 'Lunch?', selectableOptionsCount: 1, options: [{ optionName: 'Pizza' }, { optionName: 'Sushi' }] });
    expect(Buffer.from(single.message!.messageContextInfo!.messageSecret!).toString('base64')).toBe(secret);
    const multi = await build(outgoing({ kind: 'poll', content: { poll: { question: 'Q', options: ['a', 'b', 'c'], multipleAnswers: true, secret } } }));
    const creation = multi.message?.pollCreationMessage ?? multi.message?.pollCreationMessageV3;
    expect(creation).toMatchObject({ selectableOptionsCount: 0 });
  });

  it('a reaction to the target key, and its removal', async () => {
    const msg = await build(outgoing({ kind: 'reaction', content: { reaction: { target: ref, emoji: '👍' } } }));
    expect(msg.message?.reactionMessage).toMatchObject({ text: '👍', key: { remoteJid: TO, fromMe: true, id: ref.waMessageId } });
    const removal = await build(outgoing({ kind: 'reaction', content: { reaction: { target: ref, emoji: '' } } }));
    expect(removal.message?.reactionMessage?.text).toBe('');
  });

  it('a quoted reply and mentions in contextInfo', async () => {
    const reply = await build(outgoing({ kind: 'text', text: 'answer', content: { replyTo: ref } }));
    const context = reply.message?.extendedTextMessage?.contextInfo;
    expect(context).toMatchObject({ stanzaId: ref.waMessageId, quotedMessage: { conversation: 'the original' } });
    const mention = await build(outgoing({ kind: 'text', recipient: GROUP, text: '@12125551234 hi all', content: { mentions: ['12125551234'], mentionAll: true } }), GROUP);
    const info = mention.message?.extendedTextMessage?.contextInfo;
    expect(info?.mentionedJid).toEqual(['12125551234@s.whatsapp.net']);
    expect(info?.nonJidMentions).toBe(1);
  });
  it('an edit and a delete for everyone as protocol messages for the target key, with the stanza attribute', async () => {
    const edit = await build(outgoing({ kind: 'edit', text: 'fixed', content: { edit: { target: ref } } }));
    expect(edit.message?.protocolMessage).toMatchObject({ type: 14, key: { id: ref.waMessageId, fromMe: true, remoteJid: TO } });
    expect(edit.message?.protocolMessage?.editedMessage?.conversation ?? edit.message?.protocolMessage?.editedMessage?.extendedTextMessage?.text).toBe('fixed');
    const revoke = await build(outgoing({ kind: 'revoke', content: { revoke: { target: ref } } }));
    expect(revoke.message?.protocolMessage).toMatchObject({ type: 0, key: { id: ref.waMessageId } });
    expect(protocolAttributes('edit')).toEqual({ edit: '1' });
    expect(protocolAttributes('revoke')).toEqual({ edit: '7' });
    expect(protocolAttributes('text')).toBeUndefined();
  });
  it('reads an MP4\'s length from its movie header, and nothing from bytes that do not say', () => {
    expect(mp4Seconds(sampleMp4(12))).toBe(12);
    expect(mp4Seconds(sampleMp4(0.2))).toBe(1);
    expect(mp4Seconds(sampleMp4())).toBeUndefined();
    expect(mp4Seconds(sampleMp4(12).subarray(0, 40))).toBeUndefined();
    expect(mp4Seconds(Buffer.alloc(3))).toBeUndefined();
  });
  it("puts on the stanza what WhatsApp's apps do: the edit attribute on edits and deletes, <meta polltype=\"creation\"/> on a poll, nothing on the rest", () => {
    expect(stanzaExtras('edit')).toEqual({ additionalAttributes: { edit: '1' } });
    expect(stanzaExtras('revoke')).toEqual({ additionalAttributes: { edit: '7' } });
    expect(stanzaExtras('poll')).toEqual({ additionalNodes: [{ tag: 'meta', attrs: { polltype: 'creation' } }] });
    for (const kind of ['text', 'image', 'video', 'audio', 'sticker', 'location', 'contact', 'reaction'] as const) expect(stanzaExtras(kind)).toEqual({});
  });
});
