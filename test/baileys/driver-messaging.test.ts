import { proto, type WAMessage } from 'baileys';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newWhatsAppMessageId } from '../../src/core/ids.js';
import type { BaileysDriver } from '../../src/whatsapp/baileys/baileys-driver.js';
import type { OutgoingMessage } from '../../src/whatsapp/driver.js';
import { testDialects } from '../helpers/databases.js';
import { driverHarness, until } from './driver-harness.js';
import type { FakeSocket } from './fake-socket.js';

type Harness = Awaited<ReturnType<typeof driverHarness>>;

const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');

for (const dialect of testDialects()) {
  describe(`Baileys driver messaging (${dialect})`, () => {
    let h: Harness;
    let driver: BaileysDriver;
    let id: string;
    let socket: FakeSocket;

    beforeEach(async () => {
      h = await driverHarness(dialect, { groupRefreshDelayMs: 10, ackTimeoutMs: 300 });
      id = await h.linkedAccount('15550000001');
      driver = h.makeDriver();
      await driver.start();
      await until(() => h.sockets.sockets.length === 1);
      socket = h.sockets.last;
      socket.open();
      await until(() => driver.isConnected(id));
    });

    afterEach(async () => {
      await h.close();
    });

    function outgoing(extra: Partial<OutgoingMessage> = {}): OutgoingMessage {
      return { id: `msg_${Math.random().toString(36).slice(2)}`, accountId: id, recipient: '12125551234', kind: 'text', text: 'Hello', filename: null, waMessageId: newWhatsAppMessageId(), createdAt: Date.now(), ...extra };
    }

    async function logMessage(message: OutgoingMessage): Promise<void> {
      await h.store.write((tx) =>
        tx
          .insertInto('messages')
          .values({ id: message.id, account_id: id, recipient: message.recipient, kind: message.kind, text: message.text, media_url: null, filename: message.filename, status: 'sent', error: null, wa_message_id: message.waMessageId, created_at: message.createdAt, sent_at: Date.now(), delivered_at: null, read_at: null })
          .execute(),
      );
    }

    it('sends text, image and document with our message ids to the right chats', async () => {
      const text = outgoing();
      expect(await driver.send(text)).toMatchObject({ status: 'sent' });
      const image = outgoing({ kind: 'image', text: 'caption here', media: { bytes: PNG, mimetype: 'image/png' } });
      expect(await driver.send(image)).toMatchObject({ status: 'sent' });
      const doc = outgoing({ kind: 'document', recipient: '120363012345678901@g.us', text: null, filename: 'report.pdf', media: { bytes: Buffer.from('%PDF-1.4 x'), mimetype: 'application/pdf' } });
      expect(await driver.send(doc)).toMatchObject({ status: 'sent' });
      expect(socket.relayed.map((r) => [r.jid, r.messageId])).toEqual([
        ['12125551234@s.whatsapp.net', text.waMessageId],
        ['12125551234@s.whatsapp.net', image.waMessageId],
        ['120363012345678901@g.us', doc.waMessageId],
      ]);
      expect(socket.relayed[0]!.message.conversation ?? socket.relayed[0]!.message.extendedTextMessage?.text).toBe('Hello');
      expect(socket.relayed[1]!.message.imageMessage?.caption).toBe('caption here');
      expect(socket.relayed[2]!.message.documentMessage?.fileName).toBe('report.pdf');
      // the number was checked once
      expect(socket.onWhatsAppCalls).toBe(1);
    });

    it('sends to a LID as that jid, without asking whether a number is on WhatsApp', async () => {
      const toLid = outgoing({ recipient: '271828182845904@lid' });
      expect(await driver.send(toLid)).toMatchObject({ status: 'sent' });
      expect(socket.relayed.map((r) => r.jid)).toEqual(['271828182845904@lid']);
      expect(socket.onWhatsAppCalls).toBe(0);
    });

    it("keeps the LID-to-number pairs WhatsApp names (LID-mapping updates, contacts) in the account's own table", async () => {
      socket.emit('lid-mapping.update', { lid: '271828182845904:3@lid', pn: '12125550142:3@s.whatsapp.net' });
      socket.emit('contacts.upsert', [
        { id: '314159265358979@lid', phoneNumber: '12125550143@s.whatsapp.net' },
        { id: '12125550144@s.whatsapp.net', lid: '161803398874989@lid' },
        { id: '12125550145@s.whatsapp.net' },
      ]);
      const rows = () => h.store.db.selectFrom('lid_mappings').select(['lid', 'phone']).where('account_id', '=', id).orderBy('lid').execute();
      await until(async () => (await rows()).length === 3);
      expect(await rows()).toEqual([
        { lid: '161803398874989@lid', phone: '12125550144' },
        { lid: '271828182845904@lid', phone: '12125550142' },
        { lid: '314159265358979@lid', phone: '12125550143' },
      ]);
    });

    it('fails a number that is not on WhatsApp, asking WhatsApp only once', async () => {
      socket.notOnWhatsApp.add('12125550000');
      const first = await driver.send(outgoing({ recipient: '12125550000' }));
      expect(first).toEqual({ status: 'failed', error: 'The number 12125550000 is not on WhatsApp.' });
      expect((await driver.send(outgoing({ recipient: '12125550000' }))).status).toBe('failed');
      expect(socket.onWhatsAppCalls).toBe(1);
      expect(socket.relayed).toEqual([]);
    });

    it('remembers the answer across restarts, so a number is checked once', async () => {
      expect((await driver.send(outgoing())).status).toBe('sent');
      const again = await h.restart(driver, id);
      expect((await again.send(outgoing())).status).toBe('sent');
      expect(socket.onWhatsAppCalls + h.sockets.last.onWhatsAppCalls).toBe(1);
      expect(h.sockets.last.relayed).toHaveLength(1);
    });

    it('answers retry while not connected, and when the socket drops mid-send', async () => {
      socket.close(428, 'Connection Terminated');
      const outcome = await driver.send(outgoing());
      expect(outcome).toMatchObject({ status: 'retry', countsAsAttempt: false, error: 'WhatsApp is not connected.' });
    });

    it('is sent only once the server acks it; a close before the ack, a silent server or a refusal are not sent', async () => {
      socket.ackMode = 'none';
      const silent = outgoing();
      expect(await driver.send(silent)).toMatchObject({ status: 'retry', countsAsAttempt: true, error: 'WhatsApp did not confirm the message in time.' });

      const pending = driver.send(outgoing());
      await until(() => socket.relayed.length === 2);
      socket.close(428, 'Connection Terminated');
      expect(await pending).toMatchObject({ status: 'retry', countsAsAttempt: false });

    });

    it('fails a message WhatsApp refuses for good (463), retries other refusals', async () => {
      socket.ackMode = { error: '463' };
      expect(await driver.send(outgoing())).toMatchObject({ status: 'failed', code: 'reachout_restricted', error: expect.stringMatching(/463.*restricted this number from starting new chats/) });
      socket.ackMode = { error: '479' };
      expect(await driver.send(outgoing())).toMatchObject({ status: 'retry', countsAsAttempt: true, error: 'WhatsApp refused the message (error 479).' });
    });

    it('counts a send error on an open socket as an attempt', async () => {
      socket.relayError = new Error('encryption failed');
      const outcome = await driver.send(outgoing());
      expect(outcome).toMatchObject({ status: 'retry', countsAsAttempt: true });
      expect((outcome as { error: string }).error).toContain('encryption failed');
    });

    it('raises incoming messages once, normalising @lid senders and skipping echoes and history', async () => {
      socket.lids.set('123456789012345@lid', '12125559876@s.whatsapp.net');
      const direct = { key: { remoteJid: '12125551234@s.whatsapp.net', fromMe: false, id: 'IN-1' }, message: { conversation: 'hi' }, pushName: 'Ann', messageTimestamp: 1764072000 } as WAMessage;
      const group = { key: { remoteJid: '120363012345678901@g.us', participant: '123456789012345@lid', fromMe: false, id: 'IN-2' }, message: { imageMessage: { caption: 'pic' } }, messageTimestamp: 1764072001 } as WAMessage;
      const echo = { key: { remoteJid: '12125551234@s.whatsapp.net', fromMe: true, id: 'OUT-1' }, message: { conversation: 'mine' } } as WAMessage;
      socket.emit('messages.upsert', { messages: [direct, group, echo], type: 'notify' });
      socket.emit('messages.upsert', { messages: [direct], type: 'notify' }); // delivered twice
      socket.emit('messages.upsert', { messages: [{ ...direct, key: { ...direct.key, id: 'OLD-1' } }], type: 'append' }); // history
      await until(() => h.incoming.length >= 2);
      await until(async () => (await h.store.db.selectFrom('wa_incoming_seen').select('wa_message_id').execute()).length === 2);
      expect(h.incoming.map((i) => i.message)).toEqual([
        { waMessageId: 'IN-1', from: '12125551234', fromLid: null, pushName: 'Ann', type: 'text', text: 'hi', groupId: null, participant: null, at: 1764072000000 },
        {
          waMessageId: 'IN-2',
          from: '12125559876',
          fromLid: '123456789012345@lid',
          pushName: null,
          type: 'image',
          text: 'pic',
          groupId: '120363012345678901@g.us',
          participant: '12125559876',
          at: 1764072001000,
          // An image without its media key cannot be downloaded: the message still arrives, saying so.
          media: null,
          mediaError: 'The file could not be downloaded from WhatsApp.',
        },
      ]);
      // after a restart (a new driver), the same id is still known
      const again = await h.restart(driver, id);
      h.sockets.last.emit('messages.upsert', { messages: [direct], type: 'notify' });
      h.sockets.last.emit('messages.upsert', { messages: [{ ...direct, key: { ...direct.key, id: 'IN-3' } }], type: 'notify' });
      await until(() => h.incoming.length === 3);
      expect(h.incoming[2]!.message.waMessageId).toBe('IN-3');
    });

    it('fills deliveredAt and readAt from receipts (direct and group)', async () => {
      const direct = outgoing();
      const group = outgoing({ recipient: '120363012345678901@g.us' });
      await logMessage(direct);
      await logMessage(group);
      const Status = proto.WebMessageInfo.Status;
      socket.emit('messages.update', [{ key: { remoteJid: '12125551234@s.whatsapp.net', id: direct.waMessageId, fromMe: true }, update: { status: Status.DELIVERY_ACK } }]);
      socket.emit('message-receipt.update', [{ key: { remoteJid: '120363012345678901@g.us', id: group.waMessageId, fromMe: true }, receipt: { userJid: '12125551234@s.whatsapp.net', readTimestamp: 1764072005 } }]);
      await until(async () => {
        const rows = await h.store.db.selectFrom('messages').select(['id', 'delivered_at', 'read_at']).where('account_id', '=', id).execute();
        const d = rows.find((r) => r.id === direct.id)!;
        const g = rows.find((r) => r.id === group.id)!;
        return d.delivered_at !== null && d.read_at === null && g.read_at === 1764072005000 && g.delivered_at === 1764072005000;
      }, 'receipts recorded');
      socket.emit('messages.update', [{ key: { remoteJid: '12125551234@s.whatsapp.net', id: direct.waMessageId, fromMe: true }, update: { status: Status.READ } }]);
      await until(async () => (await h.store.db.selectFrom('messages').select('read_at').where('id', '=', direct.id).executeTakeFirstOrThrow()).read_at !== null);
    });

    it('answers WhatsApp retry requests (getMessage) from the message log', async () => {
      const text = outgoing({ text: 'Please resend me' });
      await logMessage(text);
      expect(await socket.options.getMessage({ remoteJid: '12125551234@s.whatsapp.net', id: text.waMessageId, fromMe: true })).toEqual({ conversation: 'Please resend me' });
      expect(await socket.options.getMessage({ remoteJid: '12125551234@s.whatsapp.net', id: 'UNKNOWN', fromMe: true })).toBeUndefined();
    });

    it('lists groups from a cache kept outside the socket', async () => {
      socket.groups = {
        '120363000000000002@g.us': { id: '120363000000000002@g.us', subject: 'Team', participants: [], size: 4 } as never,
        '120363000000000001@g.us': { id: '120363000000000001@g.us', subject: 'Customers', participants: [{ id: 'a' }, { id: 'b' }] } as never,
      };
      // the refresh runs after `open`; trigger another through a groups event and wait for the cache
      socket.emit('groups.update', [{ id: '120363000000000001@g.us', subject: 'Customers' }]);
      await until(async () => (await driver.groups(id)).length === 2, 'groups cached');
      expect(await driver.groups(id)).toEqual([
        { id: '120363000000000001@g.us', name: 'Customers', participants: 2 },
        { id: '120363000000000002@g.us', name: 'Team', participants: 4 },
      ]);
      socket.close(428);
      expect(await driver.groups(id)).toHaveLength(2);
    });

    it('keeps what WhatsApp sends storable: a NUL in a message id, a receipt id or a group name breaks nothing (PostgreSQL refuses NUL)', async () => {
      const odd = { key: { remoteJid: '12125551234@s.whatsapp.net', fromMe: false, id: 'IN\u0000NUL' }, message: { conversation: 'hi' }, pushName: 'A\u0000nn', messageTimestamp: 1764072000 } as WAMessage;
      socket.emit('messages.upsert', { messages: [odd], type: 'notify' });
      socket.emit('messages.upsert', { messages: [odd], type: 'notify' }); // delivered twice: still raised once
      // A receipt naming an id with a NUL is ignored without stopping the ones after it.
      const sent = outgoing();
      await logMessage(sent);
      socket.emit('messages.update', [{ key: { remoteJid: '12125551234@s.whatsapp.net', id: 'X\u0000', fromMe: true }, update: { status: proto.WebMessageInfo.Status.DELIVERY_ACK } }]);
      socket.emit('messages.update', [{ key: { remoteJid: '12125551234@s.whatsapp.net', id: sent.waMessageId, fromMe: true }, update: { status: proto.WebMessageInfo.Status.DELIVERY_ACK } }]);
      await until(async () => (await h.store.db.selectFrom('messages').select('delivered_at').where('id', '=', sent.id).executeTakeFirstOrThrow()).delivered_at !== null, 'receipt after the odd one');
      await until(async () => (await h.store.db.selectFrom('wa_incoming_seen').select('wa_message_id').execute()).length === 1, 'incoming id stored');
      expect(h.incoming.map((i) => i.message.waMessageId)).toEqual(['INNUL']);

      socket.groups = { '120363000000000003@g.us': { id: '120363000000000003@g.us', subject: 'Te\u0000am \ud800', participants: [], size: 3 } as never };
      socket.emit('groups.update', [{ id: '120363000000000003@g.us', subject: 'Team' }]);
      await until(async () => (await driver.groups(id)).length === 1, 'groups cached');
      expect(await driver.groups(id)).toEqual([{ id: '120363000000000003@g.us', name: 'Team ', participants: 3 }]);
    });
  });
}
