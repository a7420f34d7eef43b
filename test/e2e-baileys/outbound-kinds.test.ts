import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proto } from 'baileys';
import { Store } from '../../src/store/store.js';
import { ensureBuilt } from '../baileys/ensure-built.js';
import { createStoredAccounts, createTestDatabase, testDialects, type TestDatabase } from '../helpers/databases.js';
import { sampleMp3, sampleMp4, sampleOpus, sampleWebp, serveFiles } from '../helpers/media-samples.js';
import { ROOT, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { MEDIA_HOST_CA } from '../whatsapp-server/media-host.js';
import { WhatsAppTestServer, type ReceivedMessage } from '../whatsapp-server/server.js';
import { keyApi } from '../helpers/key-api.js';
import { baileysGatewayEnv, waitUntilConnected } from '../helpers/e2e-gateway.js';

/**
 * Every kind of message through the real driver (`messageapi serve`, WHATSAPP_DRIVER=baileys, the
 * unmodified Baileys socket) to our own WhatsApp Web test server: the recipient's Signal device
 * decrypts each message and finds the WhatsApp message its own apps would have sent — video and
 * GIF, audio and voice note, sticker, location, contacts, poll, reaction, reply, mentions, edit and
 * delete — with media that opens to the bytes we served; presence and read receipts reach the
 * contact; and every kind goes to a group whose members open it. One linked number per database.
 */

const SECRET = 'e2e-outbound-kinds-secret-0123456789';
const PHONE = '15550909090';
const PEER = '12125550190';
const OTHER = '12125550191';
const GROUP = { id: '120363000000000077@g.us', subject: 'Kinds', members: [PHONE, PEER, OTHER] };
const FILES = { 'clip.mp4': sampleMp4(9), 'voice.ogg': sampleOpus(4), 'song.mp3': sampleMp3(6), 'sticker.webp': sampleWebp() };

interface Account {
  id: string;
  apiKey: string;
}

for (const dialect of testDialects()) describe(`every kind of message through the real driver to the recipient's device (${dialect})`, () => {
  const whatsapp = new WhatsAppTestServer();
  let database: TestDatabase;
  let gateway: ServerProcess;
  let files: Awaited<ReturnType<typeof serveFiles>>;
  let reads: Store;
  let env: Record<string, string>;
  let account: Account;

  const api = keyApi(() => gateway.url, () => account.apiKey);
  const admin = async (call: string, body: unknown) => {
    const res = await fetch(`${whatsapp.adminUrl}/${call}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const answer = (await res.json()) as Record<string, unknown>;
    if (res.status !== 200) throw new Error(`admin ${call}: ${JSON.stringify(answer)}`);
    return answer;
  };
  /** Sends through our API and waits until WhatsApp took it: answers our message id and its WhatsApp id. */
  const send = async (endpoint: string, body: Record<string, unknown>, method = 'POST') => {
    // A reaction's chat is its target's; an edit or a delete names its target in the path.
    const payload = method === 'DELETE' ? undefined : method === 'POST' && !endpoint.endsWith('/reaction') ? { recipient: PEER, ...body } : body;
    const res = await api<{ messageId: string; status: string }>(method, endpoint, payload);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.status).toBe('sent');
    const row = await reads.db.selectFrom('messages').select(['wa_message_id', 'content']).where('id', '=', res.body.messageId).executeTakeFirstOrThrow();
    return { messageId: res.body.messageId, waId: row.wa_message_id, content: JSON.parse(row.content ?? '{}') as Record<string, any> };
  };
  /** What the recipient's device opened for a WhatsApp id (the server acks only what it opened). */
  const opened = (waId: string): proto.IMessage => {
    const got = whatsapp.received.find((m) => m.id === waId);
    expect(got, `message ${waId} reached WhatsApp`).toBeDefined();
    expect(got!.error).toBeUndefined();
    return got!.message!;
  };
  const received = (waId: string): ReceivedMessage => whatsapp.received.find((m) => m.id === waId)!;
  /** The file as the recipient downloads and decrypts it with the message's media key. */
  const download = (media: { directPath?: string | null; mediaKey?: Uint8Array | null } | null | undefined, type: 'video' | 'audio' | 'sticker') =>
    whatsapp.media.open(media!.directPath!, media!.mediaKey!, type);
  const peerJid = `${PEER}@s.whatsapp.net`;

  beforeAll(async () => {
    ensureBuilt(ROOT);
    database = await createTestDatabase(dialect);
    await whatsapp.start();
    whatsapp.addGroup(GROUP);
    files = await serveFiles(FILES);
    // Baileys uploads media over HTTPS only; the test media host's certificate is trusted here.
    env = baileysGatewayEnv(database, whatsapp.webSocketUrl, SECRET, { NODE_EXTRA_CA_CERTS: MEDIA_HOST_CA, ALLOW_PRIVATE_URLS: 'true' });
    reads = Store.open(database.url);
    gateway = await startServerProcess(env);
    [account] = await createStoredAccounts(database.url, ['kinds@example.com']);
    const linking = await api<{ qr: string }>('POST', '/api/v1/session/link');
    await admin('scan', { qr: linking.body.qr, phone: PHONE });
    await waitUntilConnected(async () => (await api<{ state: string }>('GET', '/api/v1/session')).body.state);
  }, 120_000);

  afterAll(async () => {
    await gateway?.kill('SIGTERM');
    await whatsapp.stop();
    await files?.close();
    await reads?.close();
    await database?.drop();
  });

  it('a video and a GIF: videoMessage with its caption and length, gifPlayback on the GIF only, and the file opens to the bytes we served', async () => {
    const video = await send('/api/v1/send/video', { video: files.url('clip.mp4'), caption: 'the warehouse tour' });
    const gif = await send('/api/v1/send/video', { video: files.url('clip.mp4'), gif: true });
    const v = opened(video.waId).videoMessage;
    expect(v).toMatchObject({ caption: 'the warehouse tour', mimetype: 'video/mp4', seconds: 9 });
    expect(v?.gifPlayback ?? false).toBe(false);
    expect(await download(v, 'video')).toEqual(FILES['clip.mp4']);
    const g = opened(gif.waId).videoMessage;
    expect(g).toMatchObject({ gifPlayback: true, mimetype: 'video/mp4' });
    expect(await download(g, 'video')).toEqual(FILES['clip.mp4']);
    expect(received(video.waId).type).toBe('media');
  });

  it('an audio file and a voice note: audioMessage with the seconds WhatsApp shows, ptt only on the voice note, which is OGG/Opus', async () => {
    const song = await send('/api/v1/send/audio', { audio: files.url('song.mp3') });
    const voice = await send('/api/v1/send/audio', { audio: files.url('voice.ogg'), voice: true });
    const a = opened(song.waId).audioMessage;
    expect(a).toMatchObject({ mimetype: 'audio/mpeg', seconds: 6 });
    expect(a?.ptt ?? false).toBe(false);
    expect(await download(a, 'audio')).toEqual(FILES['song.mp3']);
    const n = opened(voice.waId).audioMessage;
    expect(n).toMatchObject({ ptt: true, mimetype: 'audio/ogg; codecs=opus', seconds: 4 });
    expect(await download(n, 'audio')).toEqual(FILES['voice.ogg']);
  });

  it('a sticker: stickerMessage (WebP, not animated) that opens to the bytes we served', async () => {
    const sticker = await send('/api/v1/send/sticker', { sticker: files.url('sticker.webp') });
    const s = opened(sticker.waId).stickerMessage;
    expect(s).toMatchObject({ mimetype: 'image/webp' });
    expect(s?.isAnimated ?? false).toBe(false);
    expect(await download(s, 'sticker')).toEqual(FILES['sticker.webp']);
  });

  it('a location, one contact and several: locationMessage, contactMessage with a vCard WhatsApp can open a chat from, contactsArrayMessage', async () => {
    const place = await send('/api/v1/send/location', { latitude: 40.7484, longitude: -73.9857, name: 'Empire State Building', address: '20 W 34th St, New York' });
    expect(opened(place.waId).locationMessage).toMatchObject({ degreesLatitude: 40.7484, degreesLongitude: -73.9857, name: 'Empire State Building', address: '20 W 34th St, New York' });

    const one = await send('/api/v1/send/contact', { contacts: [{ name: 'Ann Lee', phones: ['+1 212 555 0123'], email: 'ann@example.com', organization: 'Acme' }] });
    const card = opened(one.waId).contactMessage;
    expect(card?.displayName).toBe('Ann Lee');
    expect(card?.vcard).toContain('BEGIN:VCARD');
    expect(card?.vcard).toContain('FN:Ann Lee');
    expect(card?.vcard).toContain('TEL;type=CELL;waid=12125550123:+1 212 555 0123');
    expect(card?.vcard).toContain('EMAIL;type=INTERNET:ann@example.com');
    expect(card?.vcard).toContain('ORG:Acme;');

    const two = await send('/api/v1/send/contact', { contacts: [{ name: 'Ann Lee', phones: ['+12125550123'] }, { name: 'Bo Chan', phones: ['+12125550124', '+12125550125'] }] });
    const array = opened(two.waId).contactsArrayMessage;
    expect(array?.displayName).toBe('2 contacts');
    expect(array?.contacts?.map((c) => c.displayName)).toEqual(['Ann Lee', 'Bo Chan']);
    expect(array?.contacts?.[1]?.vcard).toContain('waid=12125550125');
  });

  it('polls: a single-choice poll as pollCreationMessageV3, a multiple-choice one as pollCreationMessage, each under the secret we stored (the one votes are encrypted with)', async () => {
    const single = await send('/api/v1/send/poll', { question: 'Delivery day?', options: ['Monday', 'Tuesday', 'Friday'] });
    const m = opened(single.waId);
    // The stanza says what it carries, as WhatsApp's apps send a poll.
    expect(received(single.waId)).toMatchObject({ type: 'poll', meta: { polltype: 'creation' } });
    expect(m.pollCreationMessageV3).toMatchObject({ name: 'Delivery day?', selectableOptionsCount: 1 });
    expect(m.pollCreationMessageV3?.options?.map((o) => o.optionName)).toEqual(['Monday', 'Tuesday', 'Friday']);
    expect(Buffer.from(m.messageContextInfo!.messageSecret!).toString('base64')).toBe(single.content.poll.secret);

    const multiple = await send('/api/v1/send/poll', { question: 'Which samples?', options: ['red', 'blue'], multipleAnswers: true });
    const p = opened(multiple.waId);
    expect(received(multiple.waId)).toMatchObject({ type: 'poll', meta: { polltype: 'creation' } });
    expect(p.pollCreationMessage).toMatchObject({ name: 'Which samples?', selectableOptionsCount: 0 });
    expect(Buffer.from(p.messageContextInfo!.messageSecret!).toString('base64')).toBe(multiple.content.poll.secret);
    expect(multiple.content.poll.secret).not.toBe(single.content.poll.secret);
  });

  it('a reaction, a reply, an edit and a delete each point at the right message: reactionMessage and protocol messages for its key, contextInfo quoting it', async () => {
    const target = await send('/api/v1/send', { text: 'the order ships on Monday' });
    const reaction = await send('/api/v1/send/reaction', { messageId: target.messageId, emoji: '👍' });
    expect(opened(reaction.waId).reactionMessage).toMatchObject({ key: { remoteJid: peerJid, fromMe: true, id: target.waId }, text: '👍' });
    expect(received(reaction.waId).type).toBe('reaction');
    const removed = await send('/api/v1/send/reaction', { messageId: target.messageId, emoji: '' });
    expect(opened(removed.waId).reactionMessage).toMatchObject({ key: { id: target.waId }, text: '' });

    const reply = await send('/api/v1/send', { text: 'correction below', replyTo: target.messageId });
    const context = opened(reply.waId).extendedTextMessage?.contextInfo;
    expect(opened(reply.waId).extendedTextMessage?.text).toBe('correction below');
    expect(context).toMatchObject({ stanzaId: target.waId, quotedMessage: { conversation: 'the order ships on Monday' } });
    expect(whatsapp.phoneOf(context!.participant!)).toBe(PHONE);
    // A reply of another kind quotes too: a location answering the order.
    const where = await send('/api/v1/send/location', { latitude: 1.5, longitude: 2.5, replyTo: target.messageId });
    expect(opened(where.waId).locationMessage?.contextInfo).toMatchObject({ stanzaId: target.waId });

    const edit = await send(`/api/v1/messages/${target.messageId}`, { text: 'the order ships on Tuesday' }, 'PATCH');
    const editing = opened(edit.waId).protocolMessage;
    expect(received(edit.waId).attrs?.edit).toBe('1');
    expect(editing).toMatchObject({ type: proto.Message.ProtocolMessage.Type.MESSAGE_EDIT, key: { remoteJid: peerJid, fromMe: true, id: target.waId } });
    expect(editing?.editedMessage?.conversation ?? editing?.editedMessage?.extendedTextMessage?.text).toBe('the order ships on Tuesday');

    const gone = await send(`/api/v1/messages/${target.messageId}`, {}, 'DELETE');
    expect(received(gone.waId).attrs?.edit).toBe('7');
    expect(opened(gone.waId).protocolMessage).toMatchObject({ type: proto.Message.ProtocolMessage.Type.REVOKE, key: { remoteJid: peerJid, fromMe: true, id: target.waId } });
    // The phone shows each as its own stanza in the chat, the original once.
    expect(whatsapp.chat(PEER, PHONE).filter((m) => m.id === target.waId)).toHaveLength(1);
  });

  it("presence reaches the contact as a chat state (typing, recording, stopped), and a read mark as a read receipt for the contact's messages", async () => {
    for (const state of ['composing', 'recording', 'paused']) {
      const res = await api<{ success: boolean }>('POST', `/api/v1/chats/${PEER}/presence`, { state });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
    await expect
      .poll(() => whatsapp.signals.filter((s) => s.tag === 'chatstate' && whatsapp.phoneOf(s.to) === PEER).map((s) => s.state), { timeout: 10_000 })
      .toEqual(['composing', 'recording', 'paused']);

    const first = (await admin('inbound', { from: PEER, phone: PHONE, text: 'are the samples ready?' })).id as string;
    const second = (await admin('inbound', { from: PEER, phone: PHONE, text: 'and the invoice?' })).id as string;
    const res = await api<{ success: boolean }>('POST', `/api/v1/chats/${PEER}/read`, { messageIds: [first, second] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    await expect
      .poll(() => whatsapp.signals.find((s) => s.tag === 'receipt' && s.type === 'read' && s.ids?.includes(first)), { timeout: 10_000 })
      .toBeDefined();
    const receipt = whatsapp.signals.find((s) => s.tag === 'receipt' && s.type === 'read' && s.ids?.includes(first))!;
    expect(whatsapp.phoneOf(receipt.to)).toBe(PEER);
    expect(whatsapp.phoneOf(receipt.from)).toBe(PHONE);
    expect([...receipt.ids!].sort()).toEqual([first, second].sort());
  });

  it('every kind to a group on Unlimited: the members open each one, mentions and @all in contextInfo, the reaction, edit and delete for the group message', async () => {
    const toGroup = (endpoint: string, body: Record<string, unknown>) => send(endpoint, { recipient: GROUP.id, ...body });
    const text = await toGroup('/api/v1/send', { text: `@${PEER} @${OTHER} the samples are here`, mentions: [PEER, OTHER] });
    expect(opened(text.waId).extendedTextMessage).toMatchObject({ text: `@${PEER} @${OTHER} the samples are here`, contextInfo: { mentionedJid: [peerJid, `${OTHER}@s.whatsapp.net`] } });
    expect(received(text.waId).to).toBe(GROUP.id);
    const everyone = await toGroup('/api/v1/send', { text: '@all meeting at 3', mentions: ['@all'] });
    expect(opened(everyone.waId).extendedTextMessage?.contextInfo?.nonJidMentions).toBe(1);

    const video = await toGroup('/api/v1/send/video', { video: files.url('clip.mp4'), caption: `for @${PEER}`, mentions: [PEER], gif: true });
    const v = opened(video.waId).videoMessage;
    expect(v).toMatchObject({ caption: `for @${PEER}`, gifPlayback: true, contextInfo: { mentionedJid: [peerJid] } });
    expect(await download(v, 'video')).toEqual(FILES['clip.mp4']);
    const voice = await toGroup('/api/v1/send/audio', { audio: files.url('voice.ogg'), voice: true });
    expect(opened(voice.waId).audioMessage).toMatchObject({ ptt: true, seconds: 4 });
    expect(await download(opened(voice.waId).audioMessage, 'audio')).toEqual(FILES['voice.ogg']);
    const sticker = await toGroup('/api/v1/send/sticker', { sticker: files.url('sticker.webp') });
    expect(await download(opened(sticker.waId).stickerMessage, 'sticker')).toEqual(FILES['sticker.webp']);
    const place = await toGroup('/api/v1/send/location', { latitude: -33.8568, longitude: 151.2153, name: 'Opera House' });
    expect(opened(place.waId).locationMessage).toMatchObject({ degreesLatitude: -33.8568, degreesLongitude: 151.2153, name: 'Opera House' });
    const contact = await toGroup('/api/v1/send/contact', { contacts: [{ name: 'Ann Lee', phones: ['+12125550123'] }] });
    expect(opened(contact.waId).contactMessage?.displayName).toBe('Ann Lee');
    const poll = await toGroup('/api/v1/send/poll', { question: 'Pizza?', options: ['yes', 'no'] });
    expect(opened(poll.waId).pollCreationMessageV3?.name).toBe('Pizza?');
    expect(received(poll.waId).meta).toEqual({ polltype: 'creation' });
    expect(Buffer.from(opened(poll.waId).messageContextInfo!.messageSecret!).toString('base64')).toBe(poll.content.poll.secret);

    const reply = await toGroup('/api/v1/send', { text: 'see above', replyTo: text.messageId });
    expect(opened(reply.waId).extendedTextMessage?.contextInfo).toMatchObject({ stanzaId: text.waId, quotedMessage: { conversation: `@${PEER} @${OTHER} the samples are here` } });
    const reaction = await send('/api/v1/send/reaction', { messageId: text.messageId, emoji: '🎉' });
    expect(received(reaction.waId).to).toBe(GROUP.id);
    expect(opened(reaction.waId).reactionMessage).toMatchObject({ key: { remoteJid: GROUP.id, fromMe: true, id: text.waId }, text: '🎉' });
    const edit = await send(`/api/v1/messages/${text.messageId}`, { text: 'the samples are in the lobby' }, 'PATCH');
    expect(opened(edit.waId).protocolMessage).toMatchObject({ type: proto.Message.ProtocolMessage.Type.MESSAGE_EDIT, key: { remoteJid: GROUP.id, id: text.waId } });
    const gone = await send(`/api/v1/messages/${everyone.messageId}`, {}, 'DELETE');
    expect(opened(gone.waId).protocolMessage).toMatchObject({ type: proto.Message.ProtocolMessage.Type.REVOKE, key: { remoteJid: GROUP.id, id: everyone.waId } });

    // "typing…" in the group reaches it too.
    expect((await api('POST', `/api/v1/chats/${encodeURIComponent(GROUP.id)}/presence`, { state: 'composing' })).status).toBe(200);
    await expect.poll(() => whatsapp.signals.find((s) => s.tag === 'chatstate' && s.to === GROUP.id)?.state, { timeout: 10_000 }).toBe('composing');

    // Each member's phone shows them, in the group's chat.
    for (const member of [PEER, OTHER]) {
      const shown = whatsapp.chat(member, GROUP.id).map((m) => m.id);
      for (const sent of [text, everyone, video, voice, sticker, place, contact, poll, reply, reaction, edit, gone]) expect(shown, `${member} shows ${sent.waId}`).toContain(sent.waId);
    }
  });
  it('a retry receipt after a restart ("waiting for this message"): a location, contacts, a poll, a reply, a reaction, an edit and a delete go out again as themselves, rebuilt from our log under their ids', async () => {
    const target = await send('/api/v1/send', { text: 'the crates leave at noon' });
    const sent = {
      place: await send('/api/v1/send/location', { latitude: 48.8584, longitude: 2.2945, name: 'Eiffel Tower' }),
      contact: await send('/api/v1/send/contact', { contacts: [{ name: 'Ann Lee', phones: ['+12125550123'] }] }),
      poll: await send('/api/v1/send/poll', { question: 'Which crate first?', options: ['A', 'B'] }),
      reply: await send('/api/v1/send', { text: 'noted', replyTo: target.messageId }),
      reaction: await send('/api/v1/send/reaction', { messageId: target.messageId, emoji: '🚚' }),
      edit: await send(`/api/v1/messages/${target.messageId}`, { text: 'the crates leave at one' }, 'PATCH'),
    };
    const revokable = await send('/api/v1/send', { text: 'wrong chat, sorry' });
    const gone = await send(`/api/v1/messages/${revokable.messageId}`, {}, 'DELETE');
    const all = { ...sent, gone };
    await gateway.kill('SIGTERM');
    gateway = await startServerProcess(env);
    await expect.poll(async () => (await api<{ state: string }>('GET', '/api/v1/session')).body.state, { timeout: 20_000, interval: 50 }).toBe('connected');
    for (const one of Object.values(all)) await admin('receipt', { id: one.waId, type: 'retry' });
    const again = (one: { waId: string }) => whatsapp.deliveries.filter((m) => m.id === one.waId)[1];
    await expect.poll(() => Object.values(all).filter((one) => again(one)).length, { timeout: 15_000 }).toBe(Object.keys(all).length);
    for (const [name, one] of Object.entries(all)) expect(again(one)!.error, name).toBeUndefined();
    const copy = (one: { waId: string }) => again(one)!.message!;
    expect(copy(sent.place).locationMessage).toMatchObject({ degreesLatitude: 48.8584, degreesLongitude: 2.2945, name: 'Eiffel Tower' });
    expect(copy(sent.contact).contactMessage?.vcard).toBe(opened(sent.contact.waId).contactMessage?.vcard);
    expect(copy(sent.poll).pollCreationMessageV3).toMatchObject({ name: 'Which crate first?', selectableOptionsCount: 1 });
    expect(Buffer.from(copy(sent.poll).messageContextInfo!.messageSecret!).toString('base64')).toBe(sent.poll.content.poll.secret);
    expect(copy(sent.reply).extendedTextMessage).toMatchObject({ text: 'noted', contextInfo: { stanzaId: target.waId } });
    expect(copy(sent.reaction).reactionMessage).toMatchObject({ key: { id: target.waId, fromMe: true }, text: '🚚' });
    expect(copy(sent.edit).protocolMessage).toMatchObject({ type: proto.Message.ProtocolMessage.Type.MESSAGE_EDIT, key: { id: target.waId } });
    expect(copy(sent.edit).protocolMessage?.editedMessage?.conversation ?? copy(sent.edit).protocolMessage?.editedMessage?.extendedTextMessage?.text).toBe('the crates leave at one');
    expect(copy(gone).protocolMessage).toMatchObject({ type: proto.Message.ProtocolMessage.Type.REVOKE, key: { id: revokable.waId } });
  });
});
