import { Boom } from '@hapi/boom';
import { DisconnectReason, proto, type WAMessage } from 'baileys';
import { describe, expect, it } from 'vitest';
import { classifyClose } from '../../src/whatsapp/baileys/disconnect-reason.js';
import { phoneOf, receiptsFromUpdates, receiptsFromUserReceipts, toIncoming } from '../../src/whatsapp/baileys/event-mapping.js';
import { toIncomingChange } from '../../src/whatsapp/baileys/incoming-change-mapping.js';

const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);
const noLids = async () => null;
const lids = async (lid: string) => (lid === '123456789012345@lid' ? '12125559876@s.whatsapp.net' : null);

function upsert(msg: Partial<WAMessage> & { key: WAMessage['key'] }): WAMessage {
  return { messageTimestamp: 1764072000, pushName: 'Ann', ...msg } as WAMessage;
}

describe('disconnect reasons (Boom errors as Baileys closes sockets)', () => {
  const cases: Array<[string, Boom | Error | undefined, string]> = [
    ['restartRequired 515', new Boom('Stream Errored (restart required)', { statusCode: DisconnectReason.restartRequired }), 'restart'],
    ['loggedOut 401', new Boom('Connection Failure', { statusCode: DisconnectReason.loggedOut }), 'logged_out'],
    ['connectionReplaced 440', new Boom('Stream Errored (conflict)', { statusCode: DisconnectReason.connectionReplaced }), 'replaced'],
    ['badSession 500', new Boom('Bad MAC', { statusCode: DisconnectReason.badSession }), 'retry'],
    ['forbidden 403', new Boom('Connection Failure', { statusCode: DisconnectReason.forbidden }), 'retry'],
    ['multideviceMismatch 411', new Boom('Multi-device beta not joined', { statusCode: DisconnectReason.multideviceMismatch }), 'retry'],
    ['connectionClosed 428', new Boom('Connection Terminated', { statusCode: DisconnectReason.connectionClosed }), 'retry'],
    ['connectionLost 408', new Boom('Connection was lost', { statusCode: DisconnectReason.connectionLost }), 'retry'],
    ['unavailableService 503', new Boom('Stream Errored (unknown)', { statusCode: DisconnectReason.unavailableService }), 'retry'],
    ['a WebSocket error with no network', new Boom('WebSocket Error (getaddrinfo ENOTFOUND web.whatsapp.com)', { statusCode: 500 }), 'retry'],
    ['a plain Error', new Error('boom'), 'retry'],
    ['no error at all', undefined, 'retry'],
  ];
  for (const [name, error, action] of cases) {
    it(`${name} → ${action}`, () => {
      const classified = classifyClose(error);
      expect(classified.action).toBe(action);
      if (error instanceof Boom) {
        expect(classified.code).toBe(error.output.statusCode);
        expect(classified.description).toContain(String(error.output.statusCode));
      }
    });
  }
});

describe('incoming messages', () => {
  it('maps a direct text message', async () => {
    const msg = upsert({ key: { remoteJid: '12125551234@s.whatsapp.net', fromMe: false, id: 'IN1' }, message: { conversation: 'hi' } });
    expect(await toIncoming(msg, noLids, NOW)).toEqual({
      waMessageId: 'IN1',
      from: '12125551234',
      fromLid: null,
      pushName: 'Ann',
      type: 'text',
      text: 'hi',
      groupId: null,
      participant: null,
      at: 1764072000 * 1000,
    });
  });

  it('maps a group message with its participant and an extended text', async () => {
    const msg = upsert({
      key: { remoteJid: '120363012345678901@g.us', fromMe: false, id: 'IN2', participant: '12125551234@s.whatsapp.net' },
      message: { extendedTextMessage: { text: 'hello group' } },
    });
    const incoming = await toIncoming(msg, noLids, NOW);
    expect(incoming).toMatchObject({ from: '12125551234', groupId: '120363012345678901@g.us', participant: '12125551234', type: 'text', text: 'hello group' });
  });

  it('normalises @lid senders through the alternate id, then through the mapping, else keeps the lid', async () => {
    const viaAlt = upsert({ key: { remoteJid: '555@lid', remoteJidAlt: '12125550000@s.whatsapp.net', fromMe: false, id: 'L1' }, message: { conversation: 'x' } });
    expect((await toIncoming(viaAlt, noLids, NOW))?.from).toBe('12125550000');
    const viaMap = upsert({ key: { remoteJid: '123456789012345@lid', fromMe: false, id: 'L2' }, message: { conversation: 'x' } });
    expect((await toIncoming(viaMap, lids, NOW))?.from).toBe('12125559876');
    const groupLid = upsert({ key: { remoteJid: '120363012345678901@g.us', participant: '123456789012345:3@lid', fromMe: false, id: 'L3' }, message: { conversation: 'x' } });
    expect(await toIncoming(groupLid, lids, NOW)).toMatchObject({ from: '12125559876', participant: '12125559876' });
    const unknown = upsert({ key: { remoteJid: '999@lid', fromMe: false, id: 'L4' }, message: { conversation: 'x' } });
    expect((await toIncoming(unknown, noLids, NOW))?.from).toBe('999@lid');
    expect(await phoneOf('12125551234:12@s.whatsapp.net', null, noLids)).toBe('12125551234');
  });

  it('gives the type and caption of media', async () => {
    const image = upsert({ key: { remoteJid: '12125551234@s.whatsapp.net', id: 'M1' }, message: { imageMessage: { caption: 'look', mimetype: 'image/jpeg' } } });
    expect(await toIncoming(image, noLids, NOW)).toMatchObject({ type: 'image', text: 'look' });
    const doc = upsert({ key: { remoteJid: '12125551234@s.whatsapp.net', id: 'M2' }, message: { documentWithCaptionMessage: { message: { documentMessage: { caption: 'the pdf', fileName: 'a.pdf' } } } } });
    expect(await toIncoming(doc, noLids, NOW)).toMatchObject({ type: 'document', text: 'the pdf' });
    const audio = upsert({ key: { remoteJid: '12125551234@s.whatsapp.net', id: 'M3' }, message: { audioMessage: { seconds: 3 } } });
    expect(await toIncoming(audio, noLids, NOW)).toMatchObject({ type: 'audio', text: null });
    const ephemeral = upsert({ key: { remoteJid: '12125551234@s.whatsapp.net', id: 'M4' }, message: { ephemeralMessage: { message: { conversation: 'vanishing' } } } });
    expect(await toIncoming(ephemeral, noLids, NOW)).toMatchObject({ type: 'text', text: 'vanishing' });
  });

  it('skips our own echoes, status broadcasts, newsletters, protocol, history-sync and stub messages', async () => {
    const skipped: WAMessage[] = [
      upsert({ key: { remoteJid: '12125551234@s.whatsapp.net', fromMe: true, id: 'S1' }, message: { conversation: 'mine' } }),
      upsert({ key: { remoteJid: 'status@broadcast', participant: '12125551234@s.whatsapp.net', id: 'S2' }, message: { conversation: 'story' } }),
      upsert({ key: { remoteJid: '120363000000000000@newsletter', id: 'S3' }, message: { conversation: 'news' } }),
      upsert({ key: { remoteJid: '12125551234@s.whatsapp.net', id: 'S4' }, message: { protocolMessage: { type: proto.Message.ProtocolMessage.Type.REVOKE } } }),
      upsert({
        key: { remoteJid: '15550000001@s.whatsapp.net', id: 'S5' },
        message: { protocolMessage: { type: proto.Message.ProtocolMessage.Type.HISTORY_SYNC_NOTIFICATION, historySyncNotification: { syncType: proto.HistorySync.HistorySyncType.RECENT } } },
      }),
      upsert({ key: { remoteJid: '120363012345678901@g.us', participant: '12125551234@s.whatsapp.net', id: 'S6' }, messageStubType: proto.WebMessageInfo.StubType.GROUP_PARTICIPANT_ADD }),
      upsert({ key: { remoteJid: '12125551234@s.whatsapp.net', id: 'S7' }, message: { senderKeyDistributionMessage: { groupId: 'x' } } }),
      upsert({ key: { remoteJid: '12125551234@s.whatsapp.net', id: 'S8' }, message: { reactionMessage: { text: '👍' } } }),
      upsert({ key: { remoteJid: '12125551234@s.whatsapp.net', id: 'S9' } }),
    ];
    for (const msg of skipped) expect(await toIncoming(msg, noLids, NOW), msg.key.id!).toBeNull();
  });
});

describe('what each received kind carries (issue 14)', () => {
  const from = (id: string) => ({ remoteJid: '12125551234@s.whatsapp.net', fromMe: false, id });
  it('gives the kind fields: file name, voice and duration, gif, place, contact cards, poll, quote and mentions, and the sender LID', async () => {
    const doc = upsert({ key: from('K1'), message: { documentMessage: { fileName: 'a.pdf', caption: 'c', mimetype: 'application/pdf' } } });
    expect(await toIncoming(doc, noLids, NOW)).toMatchObject({ type: 'document', text: 'c', fileName: 'a.pdf' });
    const voice = upsert({ key: from('K2'), message: { audioMessage: { ptt: true, seconds: 7 } } });
    expect(await toIncoming(voice, noLids, NOW)).toMatchObject({ type: 'audio', voice: true, durationSeconds: 7 });
    const gif = upsert({ key: from('K3'), message: { videoMessage: { gifPlayback: true, seconds: 2 } } });
    expect(await toIncoming(gif, noLids, NOW)).toMatchObject({ type: 'video', gif: true, durationSeconds: 2 });
    const place = upsert({ key: from('K4'), message: { locationMessage: { degreesLatitude: 40.7, degreesLongitude: -74, name: 'Office' } } });
    expect(await toIncoming(place, noLids, NOW)).toMatchObject({ type: 'location', location: { latitude: 40.7, longitude: -74, name: 'Office' } });
    const card = upsert({
      key: from('K5'),
      message: { contactMessage: { displayName: 'Bob', vcard: 'BEGIN:VCARD\nVERSION:3.0\nFN:Bob\nORG:Acme;\nTEL;type=CELL;waid=12125550100:+1 212-555-0100\nEMAIL:bob@example.com\nEND:VCARD' } },
    });
    expect(await toIncoming(card, noLids, NOW)).toMatchObject({ type: 'contact', contacts: [{ name: 'Bob', phones: ['+12125550100'], email: 'bob@example.com', organization: 'Acme' }] });
    const poll = upsert({ key: from('K6'), message: { pollCreationMessageV3: { name: 'Lunch?', options: [{ optionName: 'Pizza' }, { optionName: 'Sushi' }], selectableOptionsCount: 1 } } });
    expect(await toIncoming(poll, noLids, NOW)).toMatchObject({ type: 'poll', poll: { question: 'Lunch?', options: ['Pizza', 'Sushi'], multipleAnswers: false } });
    const reply = upsert({
      key: { remoteJid: '120363012345678901@g.us', participant: '123456789012345@lid', fromMe: false, id: 'K7' },
      message: { extendedTextMessage: { text: 'yes @12125559876', contextInfo: { stanzaId: 'Q1', participant: '12125550001@s.whatsapp.net', mentionedJid: ['12125559876@s.whatsapp.net'] } } },
    });
    expect(await toIncoming(reply, lids, NOW)).toMatchObject({ from: '12125559876', fromLid: '123456789012345@lid', quoted: { waMessageId: 'Q1' }, mentions: ['12125559876'] });
  });

  it('maps reactions (and their removal), edits, deletes for everyone and poll votes to changes', async () => {
    const Type = proto.Message.ProtocolMessage.Type;
    const target = { remoteJid: '12125551234@s.whatsapp.net', fromMe: true, id: 'T1' };
    const react = await toIncomingChange(upsert({ key: from('C1'), message: { reactionMessage: { key: target, text: '👍' } } }), noLids, NOW);
    expect(react).toEqual({ change: { kind: 'reaction', targetWaMessageId: 'T1', emoji: '👍', at: 1764072000000, from: '12125551234', fromLid: null, pushName: 'Ann', groupId: null, participant: null } });
    const unreact = await toIncomingChange(upsert({ key: from('C2'), message: { reactionMessage: { key: target, text: '' } } }), noLids, NOW);
    expect(unreact).toMatchObject({ change: { kind: 'reaction', emoji: '' } });
    const edit = await toIncomingChange(upsert({ key: from('C3'), message: { protocolMessage: { type: Type.MESSAGE_EDIT, key: { ...target, fromMe: false }, editedMessage: { conversation: 'fixed' } } } }), noLids, NOW);
    expect(edit).toMatchObject({ change: { kind: 'edit', targetWaMessageId: 'T1', text: 'fixed' } });
    const revoke = await toIncomingChange(upsert({ key: from('C4'), message: { protocolMessage: { type: Type.REVOKE, key: { ...target, fromMe: false } } } }), noLids, NOW);
    expect(revoke).toMatchObject({ change: { kind: 'revoke', targetWaMessageId: 'T1' } });
    const vote = await toIncomingChange(
      upsert({ key: from('C5'), message: { pollUpdateMessage: { pollCreationMessageKey: target, vote: { encPayload: Buffer.from('x'), encIv: Buffer.from('y') } } } }),
      noLids,
      NOW,
    );
    expect(vote).toMatchObject({ vote: { pollWaMessageId: 'T1' }, change: { kind: 'poll_vote', pollWaMessageId: 'T1', from: '12125551234' } });
    expect(await toIncomingChange(upsert({ key: { ...from('C6'), fromMe: true }, message: { reactionMessage: { key: target, text: '👍' } } }), noLids, NOW)).toBeNull();
    expect(await toIncomingChange(upsert({ key: from('C7'), message: { conversation: 'plain' } }), noLids, NOW)).toBeNull();
  });
});

describe('receipts', () => {
  const Status = proto.WebMessageInfo.Status;
  it('maps messages.update statuses of our messages to delivered and read', () => {
    const updates = [
      { key: { remoteJid: '12125551234@s.whatsapp.net', id: 'A', fromMe: true }, update: { status: Status.SERVER_ACK } },
      { key: { remoteJid: '12125551234@s.whatsapp.net', id: 'A', fromMe: true }, update: { status: Status.DELIVERY_ACK } },
      { key: { remoteJid: '12125551234@s.whatsapp.net', id: 'A', fromMe: true }, update: { status: Status.READ } },
      { key: { remoteJid: '12125551234@s.whatsapp.net', id: 'B', fromMe: true }, update: { status: Status.PLAYED } },
      { key: { remoteJid: '12125551234@s.whatsapp.net', id: 'C', fromMe: false }, update: { status: Status.READ } },
      { key: { remoteJid: '12125551234@s.whatsapp.net', id: 'D', fromMe: true }, update: { starred: true } },
    ];
    expect(receiptsFromUpdates(updates, NOW)).toEqual([
      { waMessageId: 'A', kind: 'delivered', at: NOW },
      { waMessageId: 'A', kind: 'read', at: NOW },
      { waMessageId: 'B', kind: 'played', at: NOW },
    ]);
  });

  it('maps message-receipt.update (groups) with their timestamps', () => {
    const updates = [
      { key: { remoteJid: '120363012345678901@g.us', id: 'G', fromMe: true }, receipt: { userJid: '12125551234@s.whatsapp.net', receiptTimestamp: 1764072001 } },
      { key: { remoteJid: '120363012345678901@g.us', id: 'G', fromMe: true }, receipt: { userJid: '12125551235@s.whatsapp.net', readTimestamp: 1764072005 } },
    ];
    expect(receiptsFromUserReceipts(updates, NOW)).toEqual([
      { waMessageId: 'G', kind: 'delivered', at: 1764072001000 },
      { waMessageId: 'G', kind: 'read', at: 1764072005000 },
    ]);
  });
});
