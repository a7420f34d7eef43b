import { Curve, proto, type WASocket } from 'baileys';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkedCreds } from '../baileys/fake-socket.js';
import { tinyPdf, tinyPng } from '../media/fixtures.js';
import { WhatsAppTestServer } from './server.js';
import { connect, memoryAuth, type Auth, type Opened } from './test-client.js';

/**
 * The test server against the unmodified Baileys socket, without the gateway: the protocol
 * steps the gateway's end-to-end suite relies on, each checked where it happens.
 */

const logger = pino({ level: process.env.WA_TEST_LOG ?? 'silent' });

describe('the WhatsApp Web test server, with the Baileys socket as it ships', () => {
  const server = new WhatsAppTestServer({ log: (line) => logger.warn(line) });

  beforeAll(() => server.start());
  afterAll(() => server.stop());

  it('links a new device by QR: pair-success is verified by Baileys, 515, then it logs in', async () => {
    const auth = memoryAuth();
    const first = connect(server, auth, (qr) => void server.scanQr(qr, '15550001111'));
    const code = await first.then(() => 0, (error: { code?: number }) => error.code);
    expect(code).toBe(515);
    expect(auth.creds.me?.id).toMatch(/^15550001111:\d+@s\.whatsapp\.net$/);
    expect(auth.creds.account?.accountSignatureKey).toBeTruthy();
    const { socket } = await connect(server, auth);
    expect(server.loggedInDevices).toContain(auth.creds.me!.id);
    socket.end(undefined);
  });

  it('sends a text that the recipient decrypts, acked under its id, and receipts come back', async () => {
    const auth = memoryAuth();
    await connect(server, auth, (qr) => void server.scanQr(qr, '15550002222')).catch(() => undefined);
    // as after the first history sync: no 20-second wait for one before events flow
    auth.creds.accountSyncCounter = 1;
    const { socket } = await connect(server, auth);
    const updates: Array<{ id: string; status: number }> = [];
    socket.ev.on('messages.update', (list) => list.forEach((u) => updates.push({ id: u.key.id!, status: u.update.status! })));
    const acked = new Promise<string>((resolve) => socket.ws.on('CB:ack,class:message', (node: { attrs: { id: string } }) => resolve(node.attrs.id)));
    await socket.sendMessage('12125550100@s.whatsapp.net', { text: 'hello from the test' }, { messageId: '3EB0TESTMESSAGE0001' });
    expect(await acked).toBe('3EB0TESTMESSAGE0001');
    const got = server.received.find((m) => m.id === '3EB0TESTMESSAGE0001');
    expect(got?.error).toBeUndefined();
    expect(got?.message?.conversation ?? got?.message?.extendedTextMessage?.text).toBe('hello from the test');
    await server.receipt('3EB0TESTMESSAGE0001', 'delivery');
    await expect.poll(() => updates, { timeout: 10_000 }).toEqual([{ id: '3EB0TESTMESSAGE0001', status: 3 }]);
    await server.receipt('3EB0TESTMESSAGE0001', 'read');
    await expect.poll(() => updates.map((u) => u.status), { timeout: 10_000 }).toEqual([3, 4]);
    socket.end(undefined);
  });

  /** A device linked by QR to `phone`, connected, past its first history sync. */
  async function linkedSocket(phone: string): Promise<Opened & { auth: Auth }> {
    const auth = memoryAuth();
    await connect(server, auth, (qr) => void server.scanQr(qr, phone)).catch(() => undefined);
    auth.creds.accountSyncCounter = 1;
    return { ...(await connect(server, auth)), auth };
  }

  it('links by pairing code: the phone types the code, the key bundle opens, 515, then it logs in', async () => {
    const auth = memoryAuth();
    let code: Promise<string> | undefined;
    const first = connect(server, auth, (_qr, socket) => (code ??= socket.requestPairingCode('15550003333')));
    await expect.poll(() => code, { timeout: 10_000 }).toBeDefined();
    const typed = await code!;
    expect(typed).toMatch(/^[A-Z0-9]{8}$/);
    const jid = await server.enterPairingCode('15550003333', typed);
    expect(await first.then(() => 0, (error: { code?: number }) => error.code)).toBe(515);
    expect(auth.creds.me?.id).toBe(jid);
    const { socket } = await connect(server, auth);
    expect(server.loggedInDevices).toContain(jid);
    socket.end(undefined);
  });

  it('refuses a wrong pairing code: the key bundle does not open and nothing is linked', async () => {
    const auth = memoryAuth();
    let code: Promise<string> | undefined;
    let companion: WASocket | undefined;
    const first = connect(server, auth, (_qr, socket) => {
      companion = socket;
      code ??= socket.requestPairingCode('15550004444');
    });
    first.catch(() => undefined);
    await expect.poll(() => code, { timeout: 10_000 }).toBeDefined();
    const right = await code!;
    const wrong = right.startsWith('A') ? `B${right.slice(1)}` : `A${right.slice(1)}`;
    await expect(server.enterPairingCode('15550004444', wrong)).rejects.toThrow(/unable to authenticate|bundle/i);
    expect(auth.creds.account).toBeUndefined();
    expect(server.loggedInDevices.some((jid) => jid.startsWith('15550004444'))).toBe(false);
    companion!.end(undefined);
  });

  it('pushes conflict (440) and logged out (401); a logged-out device is refused at its next login', async () => {
    const a = await linkedSocket('15550005555');
    await server.replace(a.auth.creds.me!.id);
    expect(await a.closed).toBe(440);
    const b = await connect(server, a.auth);
    await server.logOut(a.auth.creds.me!.id);
    expect(await b.closed).toBe(401);
    expect(await connect(server, a.auth).then(() => 0, (error: { code?: number }) => error.code)).toBe(401);
  });

  it('sends an image and a PDF: uploaded encrypted, and the recipient opens the same bytes', async () => {
    const { socket } = await linkedSocket('15550006666');
    const image = tinyPng();
    const pdf = tinyPdf();
    await socket.sendMessage('12125550101@s.whatsapp.net', { image, mimetype: 'image/png', caption: 'a picture' }, { messageId: '3EB0TESTIMAGE000001' });
    await socket.sendMessage('12125550101@s.whatsapp.net', { document: pdf, mimetype: 'application/pdf', fileName: 'invoice.pdf' }, { messageId: '3EB0TESTPDF00000001' });
    await expect.poll(() => server.received.filter((m) => m.id.startsWith('3EB0TEST') && m.to.startsWith('12125550101')).length, { timeout: 10_000 }).toBe(2);
    const gotImage = server.received.find((m) => m.id === '3EB0TESTIMAGE000001')!;
    expect(gotImage.error).toBeUndefined();
    expect(gotImage.message?.imageMessage?.caption).toBe('a picture');
    expect(gotImage.media?.equals(image)).toBe(true);
    const gotPdf = server.received.find((m) => m.id === '3EB0TESTPDF00000001')!;
    expect(gotPdf.message?.documentMessage?.fileName).toBe('invoice.pdf');
    expect(gotPdf.media?.equals(pdf)).toBe(true);
    socket.end(undefined);
  });

  it('delivers an inbound text from a contact, encrypted by its device to the companion keys Baileys uploaded', async () => {
    const { socket } = await linkedSocket('15550007777');
    const upserts: Array<{ from: string; text: string | null | undefined; pushName: string | null | undefined; type: string }> = [];
    // (the phone's history-sync notification, a protocol message, is an upsert too: not counted)
    socket.ev.on('messages.upsert', ({ messages, type }) =>
      messages.filter((m) => !m.message?.protocolMessage).forEach((m) => upserts.push({ from: m.key.remoteJid!, text: m.message?.conversation, pushName: m.pushName, type })),
    );
    const first = await server.inbound({ from: '12125550102', phone: '15550007777', text: 'hi there', pushName: 'Ann' });
    await server.inbound({ from: '12125550102', phone: '15550007777', text: 'second one' });
    await expect.poll(() => upserts.length, { timeout: 10_000 }).toBe(2);
    expect(upserts[0]).toMatchObject({ text: 'hi there', pushName: 'Ann', type: 'notify' });
    expect(upserts[0]!.from).toMatch(/^(12125550102@s\.whatsapp\.net|912125550102@lid)$/);
    expect(upserts[1]!.text).toBe('second one');
    expect(first).toMatch(/^3A/);
    socket.end(undefined);
  });

  it('lists the groups a number is in; a group send is opened by a member with the sender key it was handed; a member\'s group message arrives', async () => {
    server.addGroup({ id: '120363000000000077@g.us', subject: 'Team', members: ['15550008888', '12125550103', '12125550104'] });
    const { socket } = await linkedSocket('15550008888');
    const groups = await socket.groupFetchAllParticipating();
    expect(Object.values(groups).map((g) => ({ id: g.id, subject: g.subject, size: g.participants.length }))).toEqual([{ id: '120363000000000077@g.us', subject: 'Team', size: 3 }]);
    await socket.sendMessage('120363000000000077@g.us', { text: 'hello team' }, { messageId: '3EB0TESTGROUP000001' });
    await socket.sendMessage('120363000000000077@g.us', { text: 'second, with the sender key already handed over' }, { messageId: '3EB0TESTGROUP000002' });
    await expect.poll(() => server.received.filter((m) => m.id.startsWith('3EB0TESTGROUP')).length, { timeout: 10_000 }).toBe(2);
    const [first, second] = ['3EB0TESTGROUP000001', '3EB0TESTGROUP000002'].map((id) => server.received.find((m) => m.id === id)!);
    expect(first!.error).toBeUndefined();
    expect(first!.to).toBe('120363000000000077@g.us');
    expect(first!.message?.conversation ?? first!.message?.extendedTextMessage?.text).toBe('hello team');
    expect(second!.error).toBeUndefined();
    expect(second!.message?.conversation ?? second!.message?.extendedTextMessage?.text).toBe('second, with the sender key already handed over');

    const upserts: Array<{ chat: string; participant: string | null | undefined; text: string | null | undefined }> = [];
    socket.ev.on('messages.upsert', ({ messages }) =>
      messages.filter((m) => !m.message?.protocolMessage).forEach((m) => upserts.push({ chat: m.key.remoteJid!, participant: m.key.participant, text: m.message?.conversation })),
    );
    await server.inbound({ from: '12125550103', phone: '15550008888', group: '120363000000000077@g.us', text: 'from a member' });
    await expect.poll(() => upserts, { timeout: 10_000 }).toEqual([{ chat: '120363000000000077@g.us', participant: expect.stringMatching(/^(12125550103@s\.whatsapp\.net|912125550103@lid)$/), text: 'from a member' }]);
    socket.end(undefined);
  });

  it('a freshly linked device gets the phone\'s history sync, syncs app state and is online at once: events flow without the 20-second wait', async () => {
    server.setHistory('15550009999', [{ from: '12125550105', text: 'an old message', at: Date.now() - 86_400_000 }]);
    const auth = memoryAuth();
    await connect(server, auth, (qr) => void server.scanQr(qr, '15550009999')).catch(() => undefined);
    expect(auth.creds.accountSyncCounter ?? 0).toBe(0);
    const { socket } = await connect(server, auth);
    const histories: string[] = [];
    const upserts: string[] = [];
    socket.ev.on('messaging-history.set', ({ messages }) => messages.forEach((m) => histories.push(m.message?.conversation ?? '')));
    socket.ev.on('messages.upsert', ({ messages, type }) => messages.forEach((m) => upserts.push(`${type}:${m.message?.conversation ?? ''}`)));
    await expect.poll(() => auth.creds.accountSyncCounter ?? 0, { timeout: 10_000 }).toBe(1);
    const started = Date.now();
    await server.inbound({ from: '12125550105', phone: '15550009999', text: 'a new message' });
    await expect.poll(() => upserts, { timeout: 10_000 }).toContain('notify:a new message');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(histories).toEqual(['an old message']);
    expect(upserts).not.toContain('notify:an old message');
    socket.end(undefined);
  });

  it('refuses a login under keys other than those the device registered with (401, as WhatsApp does): another Noise key at login, another identity at its key upload', async () => {
    const a = await linkedSocket('15550010101');
    a.socket.end(undefined);
    const impostor = memoryAuth({ ...a.auth.creds, noiseKey: Curve.generateKeyPair() });
    expect(await connect(server, impostor).then(() => 0, (error: { code?: number }) => error.code)).toBe(401);
    // The device itself is not removed by someone else's attempt: with its own key it logs in.
    (await connect(server, a.auth)).socket.end(undefined);

    // Linked before this server knew of it (as the gateway's seeded devices): registered keys, no pre-keys yet.
    const creds = linkedCreds('15550010202');
    creds.accountSyncCounter = 1;
    const jid = creds.me!.id;
    server.registerDevice(jid, { noiseKey: Buffer.from(creds.noiseKey.public), identityKey: Buffer.from(Curve.generateKeyPair().public) });
    expect(await connect(server, memoryAuth(creds)).then(() => 0, (error: { code?: number }) => error.code)).toBe(401);
    expect(server.preKeysLeft(jid)).toBe(0);
    server.registerDevice(jid, { noiseKey: Buffer.from(creds.noiseKey.public), identityKey: Buffer.from(creds.signedIdentityKey.public) });
    const { socket } = await connect(server, memoryAuth(creds));
    expect(server.preKeysLeft(jid)).toBeGreaterThan(0);
    socket.end(undefined);
  });

  it('refuses (nacks with 479) a message the recipient cannot open, and Baileys reports it in error; the phone shows nothing for it', async () => {
    const { socket } = await linkedSocket('15550010303');
    const acks: Array<{ id: string; error?: string }> = [];
    socket.ws.on('CB:ack,class:message', (node: { attrs: { id: string; error?: string } }) => acks.push({ id: node.attrs.id, error: node.attrs.error }));
    const updates: Array<{ id: string; status: number | null | undefined; stub: string[] | null | undefined }> = [];
    socket.ev.on('messages.update', (list) => list.forEach((u) => updates.push({ id: u.key.id!, status: u.update.status, stub: u.update.messageStubParameters })));
    await socket.sendMessage('12125550106@s.whatsapp.net', { text: 'before the reinstall' }, { messageId: '3EB0TESTNACK0000001' });
    await expect.poll(() => acks, { timeout: 10_000 }).toEqual([{ id: '3EB0TESTNACK0000001', error: undefined }]);
    // The contact reinstalled WhatsApp: new keys, and the session Baileys holds opens nothing on it.
    server.reinstall('12125550106');
    await socket.sendMessage('12125550106@s.whatsapp.net', { text: 'after the reinstall' }, { messageId: '3EB0TESTNACK0000002' });
    await expect.poll(() => acks, { timeout: 10_000 }).toEqual([{ id: '3EB0TESTNACK0000001', error: undefined }, { id: '3EB0TESTNACK0000002', error: '479' }]);
    await expect.poll(() => updates.find((u) => u.id === '3EB0TESTNACK0000002'), { timeout: 10_000 }).toEqual({ id: '3EB0TESTNACK0000002', status: proto.WebMessageInfo.Status.ERROR, stub: ['479'] });
    expect(server.received.find((m) => m.id === '3EB0TESTNACK0000002')?.error).toBeDefined();
    expect(server.chat('12125550106', '15550010303').map((m) => m.id)).toEqual(['3EB0TESTNACK0000001']);
    socket.end(undefined);
  });

  it('the recipient\'s phone drops a message id its chat already shows, as WhatsApp\'s apps do: a message sent twice under one id shows once', async () => {
    const { socket } = await linkedSocket('15550010404');
    const acked: string[] = [];
    socket.ws.on('CB:ack,class:message', (node: { attrs: { id: string; error?: string } }) => acked.push(`${node.attrs.id}:${node.attrs.error ?? 'ok'}`));
    await socket.sendMessage('12125550107@s.whatsapp.net', { text: 'once' }, { messageId: '3EB0TESTTWICE000001' });
    await socket.sendMessage('12125550107@s.whatsapp.net', { text: 'once' }, { messageId: '3EB0TESTTWICE000001' });
    await socket.sendMessage('12125550107@s.whatsapp.net', { text: 'and the next one' }, { messageId: '3EB0TESTTWICE000002' });
    await expect.poll(() => acked, { timeout: 10_000 }).toEqual(['3EB0TESTTWICE000001:ok', '3EB0TESTTWICE000001:ok', '3EB0TESTTWICE000002:ok']);
    expect(server.deliveries.filter((m) => m.id === '3EB0TESTTWICE000001').map((m) => Boolean(m.duplicate))).toEqual([false, true]);
    const shown = server.chat('12125550107', '15550010404');
    expect(shown.map((m) => [m.id, m.message?.conversation ?? m.message?.extendedTextMessage?.text])).toEqual([
      ['3EB0TESTTWICE000001', 'once'],
      ['3EB0TESTTWICE000002', 'and the next one'],
    ]);
    socket.end(undefined);
  });
});
