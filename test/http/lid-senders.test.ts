import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_WEBHOOK_EVENTS } from '../../src/core/webhook-events.js';
import { testDialects } from '../helpers/databases.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const LID = '271828182845904@lid';
const NUMBER = '12125550142';

/**
 * Issue 14, point 5, through the public surface: senders WhatsApp names only by a LID. The events
 * carry `fromLid` always and `from` as the number once the account knows it; replies, reactions
 * and plain sends to a LID go to that LID; and when the number becomes known, what arrived from
 * the LID is filed under it (inbox chat, sender), and later LID-only arrivals name the number.
 */
for (const dialect of testDialects()) {
  describe(`LID-addressed senders (${dialect})`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp(dialect);
    });
    afterAll(async () => {
      await t.close();
    });

    const headers = (apiKey: string) => ({ 'x-api-key': apiKey });
    const incoming = async (apiKey: string, payload: object) => {
      const res = await t.inject({ method: 'POST', url: '/api/v1/sandbox/incoming', headers: headers(apiKey), payload });
      expect(res.statusCode, res.body).toBe(200);
      return res.json() as { id: string; messageId: string };
    };
    const send = async (apiKey: string, url: string, payload: object) => {
      const res = await t.inject({ method: 'POST', url, headers: headers(apiKey), payload });
      expect(res.statusCode, res.body).toBe(200);
      return res.json() as { messageId: string; status: string };
    };
    const events = async (apiKey: string) => {
      const res = await t.inject({ method: 'GET', url: '/api/v1/events?after=0&limit=1000', headers: headers(apiKey) });
      expect(res.statusCode, res.body).toBe(200);
      return (res.json() as { events: Array<{ event: string; body: string }> }).events.map((e) => ({ event: e.event, ...(JSON.parse(e.body) as Record<string, any>) }));
    };
    const message = async (apiKey: string, id: string) => (await t.inject({ method: 'GET', url: `/api/v1/messages/${id}`, headers: headers(apiKey) })).json();
    const inbox = async (apiKey: string, chat: string) =>
      ((await t.inject({ method: 'GET', url: `/api/v1/messages?direction=in&chat=${encodeURIComponent(chat)}`, headers: headers(apiKey) })).json() as { messages: Array<{ messageId: string }> }).messages.map((m) => m.messageId);
    const sandboxSends = async (apiKey: string) =>
      ((await t.inject({ method: 'GET', url: '/api/v1/sandbox/sends?limit=100', headers: headers(apiKey) })).json() as { sends: Array<{ recipient: string; type: string; waMessageId: string }> }).sends;

    it('a LID-only sender: fromLid on the event, replies, reactions and sends go to the LID, and the number once known is used from then on', async () => {
      const { apiKey } = await t.createAccount('unlimited');
      expect((await t.inject({ method: 'PATCH', url: '/api/v1/settings', headers: headers(apiKey), payload: { webhookEvents: ALL_WEBHOOK_EVENTS } })).statusCode).toBe(200);

      // WhatsApp names the sender by LID only: the event says so, with no number to guess.
      const first = await incoming(apiKey, { from: LID, text: 'where is my order?', pushName: 'Dana' });
      const [received] = await events(apiKey);
      expect(received).toMatchObject({ event: 'message.received', message: { id: first.id, from: LID, fromLid: LID, pushName: 'Dana', text: 'where is my order?' } });
      expect(await message(apiKey, first.messageId)).toMatchObject({ direction: 'in', recipient: LID, from: LID, fromLid: LID });

      // A reply, a reaction and a plain send to the LID (as given, and in WhatsApp's capitals) reach that chat.
      const reply = await send(apiKey, '/api/v1/send', { recipient: LID, text: 'it ships today', replyTo: first.messageId });
      const reaction = await send(apiKey, '/api/v1/send/reaction', { messageId: first.messageId, emoji: '👍' });
      const plain = await send(apiKey, '/api/v1/send', { recipient: LID.toUpperCase(), text: 'tracking: 1Z999' });
      for (const sent of [reply, reaction, plain]) expect(sent.status).toBe('sent');
      expect((await message(apiKey, reply.messageId)).content.replyTo).toMatchObject({ messageId: first.messageId });
      const sends = await sandboxSends(apiKey);
      expect(sends.map((s) => [s.recipient, s.type])).toEqual([
        [LID, 'text'],
        [LID, 'reaction'],
        [LID, 'text'],
      ]);
      // The pairing phone must be a number, never a LID.
      const pairing = await t.inject({ method: 'POST', url: '/api/v1/session/pair', headers: headers(apiKey), payload: { phone: LID } });
      expect(pairing.statusCode).toBe(400);

      // The number becomes known (WhatsApp names both): the earlier message is filed under it.
      const second = await incoming(apiKey, { from: NUMBER, fromLid: LID, text: 'thanks!' });
      expect(await inbox(apiKey, NUMBER)).toEqual([second.messageId, first.messageId]);
      expect(await inbox(apiKey, LID)).toEqual([]);
      expect(await message(apiKey, first.messageId)).toMatchObject({ recipient: NUMBER, from: NUMBER, fromLid: LID });

      // From now on a LID-only arrival, reaction or edit names the number, with the LID beside it.
      const third = await incoming(apiKey, { from: LID, text: 'one more thing' });
      await incoming(apiKey, { from: LID, type: 'reaction', messageId: reply.messageId, emoji: '❤️' });
      await incoming(apiKey, { from: LID, type: 'edit', messageId: first.messageId, text: 'where is my order #42?' });
      const later = (await events(apiKey)).slice(-3);
      expect(later[0]).toMatchObject({ event: 'message.received', message: { id: third.id, from: NUMBER, fromLid: LID } });
      expect(later[1]).toMatchObject({ event: 'message.reaction', reaction: { messageId: reply.messageId, emoji: '❤️', from: NUMBER, fromLid: LID } });
      // The edit is the sender's own message (stored under the LID, now the number): it changes it.
      expect(later[2]).toMatchObject({ event: 'message.edited', message: { messageId: first.messageId, from: NUMBER, fromLid: LID } });
      expect((await message(apiKey, first.messageId)).content.text).toBe('where is my order #42?');
      expect(await inbox(apiKey, NUMBER)).toEqual([third.messageId, second.messageId, first.messageId]);

      // Another account has learnt nothing: the same LID is still only a LID there.
      const other = await t.createAccount('unlimited');
      await incoming(other.apiKey, { from: LID, text: 'hello' });
      expect((await events(other.apiKey))[0]).toMatchObject({ message: { from: LID, fromLid: LID } });
    });

    it('refuses what is neither a number, a group nor a LID', async () => {
      const { apiKey } = await t.createAccount('unlimited');
      for (const bad of ['abc@lid', '@lid', '12345@lidx', '1234567890123456789012345678901@lid']) {
        const res = await t.inject({ method: 'POST', url: '/api/v1/send', headers: headers(apiKey), payload: { recipient: bad, text: 'x' } });
        expect(res.statusCode, bad).toBe(400);
        expect(res.json()).toMatchObject({ success: false, code: 'invalid_recipient' });
      }
    });
  });
}
