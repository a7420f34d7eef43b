import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_WEBHOOK_EVENTS } from '../../src/core/webhook-events.js';
import { ensureBuilt } from '../baileys/ensure-built.js';
import { createStoredAccounts, createTestDatabase, testDialects, type TestDatabase } from '../helpers/databases.js';
import { sampleMp3, sampleMp4, sampleOpus, sampleWebp } from '../helpers/media-samples.js';
import { ROOT, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { tinyPdf, tinyPng } from '../media/fixtures.js';
import type { ContactKind, ContactSend } from '../whatsapp-server/contact-kinds.js';
import { MEDIA_HOST_CA } from '../whatsapp-server/media-host.js';
import { WhatsAppTestServer } from '../whatsapp-server/server.js';
import { keyApi } from '../helpers/key-api.js';
import { baileysGatewayEnv, waitUntilConnected } from '../helpers/e2e-gateway.js';

/**
 * Issue 14, point 7: every kind a contact's phone sends, received through the real driver
 * (`messageapi serve`, WHATSAPP_DRIVER=baileys, the unmodified Baileys socket) from our own
 * WhatsApp Web test server, end-to-end encrypted by the contact's Signal device, files uploaded
 * encrypted to the test media host. The gateway downloads and decrypts each file (asking the phone
 * to upload it again when WhatsApp's copy has expired), serves the same bytes, and raises the
 * events — reactions, edits, deletes, votes on its own polls (decrypted), LID-addressed senders.
 * Events are read from the pull queue. One linked number per database.
 */

const SECRET = 'e2e-inbound-kinds-secret-0123456789';
const PHONE = '15550808080';
const PEER = '12125550180';
/** A contact the gateway never wrote to: WhatsApp may name it by its LID alone. */
const HIDDEN = '12125550181';
const OTHER = '12125550182';
const GROUP = { id: '120363000000000088@g.us', subject: 'Inbound', members: [PHONE, PEER, OTHER] };
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface Account {
  id: string;
  apiKey: string;
}
type Event = { event: string; [key: string]: any };

for (const dialect of testDialects()) describe(`every kind a contact sends, received through the real driver (${dialect})`, () => {
  const whatsapp = new WhatsAppTestServer();
  let database: TestDatabase;
  let gateway: ServerProcess;
  let account: Account;

  const api = keyApi(() => gateway.url, () => account.apiKey);
  const bytesAt = async (url: string, withKey: boolean): Promise<{ status: number; bytes: Buffer }> => {
    const res = await fetch(url.startsWith('http') ? url : `${gateway.url}${url}`, { headers: withKey ? { 'X-API-Key': account.apiKey } : {} });
    return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()) };
  };
  /** The contact's phone sends it over the test server's admin HTTP, as a test on another process would. */
  const contact = async (what: ContactKind & { file?: Buffer }, to: Partial<ContactSend> = {}): Promise<string> => {
    const message = 'file' in what && what.file ? { ...what, file: what.file.toString('base64') } : what;
    const res = await fetch(`${whatsapp.adminUrl}/contact-message`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ from: PEER, phone: PHONE, ...to, message }) });
    const answer = (await res.json()) as { id?: string; error?: string };
    if (res.status !== 200) throw new Error(`admin contact-message: ${answer.error}`);
    return answer.id!;
  };
  const events = async (): Promise<Event[]> => {
    const res = await api<{ events: Array<{ body: string }> }>('GET', '/api/v1/events?after=0&limit=1000');
    expect(res.status).toBe(200);
    return res.body.events.map((e) => JSON.parse(e.body) as Event);
  };
  /** The event that names WhatsApp id `id`, once the gateway raised it. */
  const eventFor = async (id: string, kind = 'message.received'): Promise<Event> => {
    const matches = (e: Event) => e.event === kind && (e.message?.id === id || e.reaction?.id === id || e.vote?.pollId === id);
    await expect.poll(async () => (await events()).some(matches), { timeout: 20_000, interval: 100 }).toBe(true);
    return (await events()).find(matches)!;
  };
  /** Sends through our API and waits until WhatsApp took it: answers our id and the WhatsApp id. */
  const send = async (endpoint: string, body: Record<string, unknown>) => {
    const res = await api<{ messageId: string; status: string }>('POST', endpoint, body);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.status).toBe('sent');
    const one = await api<{ waMessageId: string }>('GET', `/api/v1/messages/${res.body.messageId}`);
    return { messageId: res.body.messageId, waId: one.body.waMessageId };
  };
  /** The file an event names, fetched by key and by its signed link: both the bytes the contact sent. */
  const expectServed = async (event: Event, file: Buffer) => {
    const media = event.message.media;
    expect(media, JSON.stringify(event.message)).toMatchObject({ size: file.length, sha256: sha(file) });
    const byKey = await bytesAt(`/api/v1/media/${media.id}`, true);
    expect(byKey.status).toBe(200);
    expect(byKey.bytes.equals(file)).toBe(true);
    const link = new URL(media.url);
    const signed = await bytesAt(link.pathname + link.search, false);
    expect(signed.status).toBe(200);
    expect(signed.bytes.equals(file)).toBe(true);
  };

  beforeAll(async () => {
    ensureBuilt(ROOT);
    database = await createTestDatabase(dialect);
    await whatsapp.start();
    whatsapp.addGroup(GROUP);
    // The driver downloads from the test media host over HTTPS: its certificate is trusted here.
    const env = baileysGatewayEnv(database, whatsapp.webSocketUrl, SECRET, { NODE_EXTRA_CA_CERTS: MEDIA_HOST_CA });
    gateway = await startServerProcess(env);
    [account] = await createStoredAccounts(database.url, ['inbound-kinds@example.com']);
    expect((await api('PATCH', '/api/v1/settings', { webhookEvents: ALL_WEBHOOK_EVENTS })).status).toBe(200);
    const linking = await api<{ qr: string }>('POST', '/api/v1/session/link');
    await whatsapp.scanQr(linking.body.qr, PHONE);
    await waitUntilConnected(async () => (await api<{ state: string }>('GET', '/api/v1/session')).body.state);
  }, 120_000);

  afterAll(async () => {
    await gateway?.kill('SIGTERM');
    await whatsapp.stop();
    await database?.drop();
  });

  it('text, image, video, voice note, audio, document, sticker, location, contact and poll: each its own message.received, files served byte for byte by key and by signed link', async () => {
    const png = tinyPng();
    const mp4 = sampleMp4(3);
    const opus = sampleOpus(4);
    const mp3 = sampleMp3();
    const pdf = tinyPdf();
    const webp = sampleWebp();
    const text = await contact({ kind: 'text', text: 'hello from the phone' }, { pushName: 'Pat' });
    const image = await contact({ kind: 'image', file: png, mimetype: 'image/png', caption: 'the dent' });
    const video = await contact({ kind: 'video', file: mp4, mimetype: 'video/mp4', caption: 'the tour', seconds: 3 });
    const voice = await contact({ kind: 'audio', file: opus, mimetype: 'audio/ogg; codecs=opus', seconds: 4, ptt: true });
    const song = await contact({ kind: 'audio', file: mp3, mimetype: 'audio/mpeg', seconds: 1 });
    const doc = await contact({ kind: 'document', file: pdf, mimetype: 'application/pdf', fileName: 'invoice.pdf', caption: 'March' });
    const sticker = await contact({ kind: 'sticker', file: webp, mimetype: 'image/webp' });
    const place = await contact({ kind: 'location', latitude: 40.7484, longitude: -73.9857, name: 'Empire State Building', address: '20 W 34th St' });
    const card = await contact({ kind: 'contact', name: 'Ann Lee', phone: '+1 212 555 0123' });
    const poll = await contact({ kind: 'poll', question: 'Lunch?', options: ['pizza', 'sushi'] });
    const reply = await contact({ kind: 'text', text: 'about that dent' }, { replyTo: { id: image, text: 'the dent', participant: `${PEER}@s.whatsapp.net` } });

    expect((await eventFor(text)).message).toMatchObject({ type: 'text', text: 'hello from the phone', from: PEER, pushName: 'Pat', isGroup: false });
    const i = await eventFor(image);
    expect(i.message).toMatchObject({ type: 'image', caption: 'the dent', media: { mimetype: 'image/png' } });
    await expectServed(i, png);
    const v = await eventFor(video);
    expect(v.message).toMatchObject({ type: 'video', caption: 'the tour', durationSeconds: 3, media: { mimetype: 'video/mp4' } });
    await expectServed(v, mp4);
    const n = await eventFor(voice);
    expect(n.message).toMatchObject({ type: 'audio', voice: true, durationSeconds: 4 });
    await expectServed(n, opus);
    const a = await eventFor(song);
    expect(a.message).toMatchObject({ type: 'audio', voice: false });
    await expectServed(a, mp3);
    const d = await eventFor(doc);
    expect(d.message).toMatchObject({ type: 'document', caption: 'March', fileName: 'invoice.pdf', media: { mimetype: 'application/pdf', fileName: 'invoice.pdf' } });
    await expectServed(d, pdf);
    const s = await eventFor(sticker);
    expect(s.message).toMatchObject({ type: 'sticker', media: { mimetype: 'image/webp' } });
    await expectServed(s, webp);
    expect((await eventFor(place)).message).toMatchObject({ type: 'location', location: { latitude: 40.7484, longitude: -73.9857, name: 'Empire State Building', address: '20 W 34th St' } });
    expect((await eventFor(card)).message).toMatchObject({ type: 'contact', contacts: [{ name: 'Ann Lee', phones: ['+12125550123'] }] });
    expect((await eventFor(poll)).message).toMatchObject({ type: 'poll', poll: { question: 'Lunch?', options: ['pizza', 'sushi'], multipleAnswers: false } });
    const r = await eventFor(reply);
    expect(r.message).toMatchObject({ type: 'text', quoted: { id: image, messageId: i.message.messageId, type: 'image' } });

    // The inbox has them all, newest first, under the contact's number.
    const inbox = await api<{ messages: Array<{ waMessageId: string }> }>('GET', `/api/v1/messages?direction=in&chat=${PEER}&limit=100`);
    expect(inbox.body.messages.map((m) => m.waMessageId)).toEqual([reply, poll, card, place, sticker, doc, song, voice, video, image, text]);
  });

  it("a file whose WhatsApp copy has expired: the driver asks the contact's phone to upload it again, then serves the same bytes", async () => {
    const png = tinyPng();
    const id = await contact({ kind: 'image', file: png, mimetype: 'image/png', caption: 'late', expired: true });
    const event = await eventFor(id);
    expect(whatsapp.contacts.reuploads).toContain(id);
    expect(event.message.mediaError).toBeUndefined();
    await expectServed(event, png);
  });

  it('a reaction to our message and its removal, an edit and a delete of their own message, and a vote on our poll (decrypted, with the option names)', async () => {
    const ours = await send('/api/v1/send', { recipient: PEER, text: 'your order ships Monday' });
    const reaction = await contact({ kind: 'reaction', targetId: ours.waId, emoji: '👍' });
    const removal = await contact({ kind: 'reaction', targetId: ours.waId, emoji: '' });
    await expect.poll(async () => (await events()).filter((e) => e.event === 'message.reaction' && e.reaction.id === ours.waId).length, { timeout: 20_000, interval: 100 }).toBe(2);
    const reactions = (await events()).filter((e) => e.event === 'message.reaction' && e.reaction.id === ours.waId);
    expect(reactions.map((e) => e.reaction)).toMatchObject([
      { messageId: ours.messageId, emoji: '👍', removed: false, from: PEER },
      { messageId: ours.messageId, emoji: '', removed: true, from: PEER },
    ]);
    expect([reaction, removal]).toHaveLength(2);

    const theirs = await contact({ kind: 'text', text: 'deliver to the back door' });
    const received = await eventFor(theirs);
    await contact({ kind: 'edit', targetId: theirs, text: 'deliver to the front door' });
    const edited = await eventFor(theirs, 'message.edited');
    expect(edited.message).toMatchObject({ messageId: received.message.messageId, text: 'deliver to the front door', from: PEER });
    expect((await api<{ content: { text: string }; editedAt: string | null }>('GET', `/api/v1/messages/${received.message.messageId}`)).body).toMatchObject({ content: { text: 'deliver to the front door' }, editedAt: expect.any(String) });
    await contact({ kind: 'revoke', targetId: theirs });
    const revoked = await eventFor(theirs, 'message.revoked');
    expect(revoked.message).toMatchObject({ messageId: received.message.messageId, from: PEER });
    expect((await api<{ revokedAt: string | null }>('GET', `/api/v1/messages/${received.message.messageId}`)).body.revokedAt).toEqual(expect.any(String));

    const poll = await send('/api/v1/send/poll', { recipient: PEER, question: 'Which day?', options: ['Monday', 'Tuesday', 'Friday'], multipleAnswers: true });
    await contact({ kind: 'vote', pollId: poll.waId, options: ['Tuesday', 'Friday'] });
    const vote = await eventFor(poll.waId, 'poll.vote');
    expect(vote.vote).toMatchObject({ pollId: poll.waId, messageId: poll.messageId, question: 'Which day?', selectedOptions: ['Tuesday', 'Friday'], from: PEER });
  });

  it('in a group: a member\'s file with a caption mentioning us, and a reply to it from another member, carry isGroup, groupId and participant', async () => {
    const png = tinyPng();
    const image = await contact({ kind: 'image', file: png, mimetype: 'image/png', caption: `@${PHONE} the new label` }, { group: GROUP.id, mentions: [PHONE], pushName: 'Pat' });
    const i = await eventFor(image);
    expect(i.message).toMatchObject({ type: 'image', isGroup: true, groupId: GROUP.id, participant: PEER, from: PEER, pushName: 'Pat', mentions: [PHONE], caption: `@${PHONE} the new label` });
    await expectServed(i, png);
    const reply = await contact({ kind: 'text', text: 'looks good' }, { from: OTHER, group: GROUP.id, replyTo: { id: image, text: `@${PHONE} the new label`, participant: `${PEER}@s.whatsapp.net` } });
    expect((await eventFor(reply)).message).toMatchObject({ groupId: GROUP.id, participant: OTHER, from: OTHER, quoted: { id: image, messageId: i.message.messageId, type: 'image' } });
    const inbox = await api<{ messages: Array<{ waMessageId: string }> }>('GET', `/api/v1/messages?direction=in&chat=${encodeURIComponent(GROUP.id)}`);
    expect(inbox.body.messages.map((m) => m.waMessageId)).toEqual([reply, image]);
  });

  it('a sender WhatsApp names by LID only: fromLid on the event, a reply to the LID reaches their phone, and once WhatsApp names the number the chat is filed under it', async () => {
    const lid = `${whatsapp.lidOf(HIDDEN)}@lid`;
    const first = await contact({ kind: 'text', text: 'hi, who is this?' }, { from: HIDDEN, lid: 'only', pushName: 'Hidden' });
    const event = await eventFor(first);
    expect(event.message).toMatchObject({ from: lid, fromLid: lid, pushName: 'Hidden' });

    const reply = await send('/api/v1/send', { recipient: event.message.from, text: 'the shop on 5th', replyTo: event.message.messageId });
    await expect.poll(() => whatsapp.received.find((m) => m.id === reply.waId)?.message, { timeout: 15_000 }).toBeDefined();
    const got = whatsapp.received.find((m) => m.id === reply.waId)!;
    expect(got.error).toBeUndefined();
    expect(whatsapp.phoneOf(got.to)).toBe(HIDDEN);
    expect(got.message?.extendedTextMessage).toMatchObject({ text: 'the shop on 5th', contextInfo: { stanzaId: first } });

    const second = await contact({ kind: 'text', text: 'thanks' }, { from: HIDDEN, lid: 'with-number' });
    expect((await eventFor(second)).message).toMatchObject({ from: HIDDEN, fromLid: lid });
    const inbox = await api<{ messages: Array<{ waMessageId: string; from: string }> }>('GET', `/api/v1/messages?direction=in&chat=${HIDDEN}`);
    expect(inbox.body.messages.map((m) => [m.waMessageId, m.from])).toEqual([
      [second, HIDDEN],
      [first, HIDDEN],
    ]);
  });
});
