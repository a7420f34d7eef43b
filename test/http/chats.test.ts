import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

for (const dialect of testDialects()) {
  describe(`presence and read marks (${dialect})`, () => {
    let t: TestApp;

    beforeAll(async () => {
      t = await startTestApp(dialect);
    });
    afterAll(() => t.close());

    const records = async (key: string) => (await t.inject({ method: 'GET', url: '/api/v1/sandbox/sends?limit=1000', headers: { 'x-api-key': key } })).json().sends as Array<Record<string, any>>;

    it('shows typing and marks messages read in a chat, recorded on the simulated network, counting toward no limit', async () => {
      const { apiKey } = await t.createAccount('trial');
      const headers = { 'x-api-key': apiKey };
      const typing = await t.inject({ method: 'POST', url: '/api/v1/chats/+1%20212%20555%201234/presence', headers, payload: { state: 'composing' } });
      expect(typing.statusCode, typing.body).toBe(200);
      expect(typing.json()).toEqual({ success: true });
      // Two messages arrive in the chat, one elsewhere; a read mark names them by WhatsApp's id or
      // by our log's, and "the whole chat" is the chat's received messages, from the inbox.
      const inbound = async (from: string, text: string) =>
        (await t.inject({ method: 'POST', url: '/api/v1/sandbox/incoming', headers, payload: { from, text } })).json() as { id: string; messageId: string };
      const first = await inbound('12125551234', 'one');
      const second = await inbound('12125551234', 'two');
      await inbound('12125559999', 'another chat');
      const read = await t.inject({ method: 'POST', url: '/api/v1/chats/12125551234/read', headers, payload: { messageIds: [first.messageId, '3EB0DDDD'] } });
      expect(read.statusCode).toBe(200);
      const all = await t.inject({ method: 'POST', url: '/api/v1/chats/12125551234/read', headers });
      expect(all.statusCode, all.body).toBe(200);
      const none = await t.inject({ method: 'POST', url: '/api/v1/chats/12125550000/read', headers });
      expect(none.statusCode, none.body).toBe(200);
      expect(await records(apiKey)).toMatchObject([
        { type: 'presence', recipient: '12125551234', content: { presence: 'composing' } },
        { type: 'read', recipient: '12125551234', content: { read: { messageIds: [first.id, '3EB0DDDD'] } } },
        { type: 'read', recipient: '12125551234', content: { read: { messageIds: [second.id, first.id] } } },
      ]);
      expect((await t.inject({ method: 'GET', url: '/api/v1/status', headers })).json().messagesToday).toBe(0);
    });

    it('refuses a bad state, a bad chat, and a group below Unlimited', async () => {
      const { apiKey } = await t.createAccount('trial');
      const headers = { 'x-api-key': apiKey };
      const bad = await t.inject({ method: 'POST', url: '/api/v1/chats/12125551234/presence', headers, payload: { state: 'dancing' } });
      expect(bad.statusCode).toBe(400);
      expect(bad.json()).toMatchObject({ code: 'invalid_parameter' });
      expect((await t.inject({ method: 'POST', url: '/api/v1/chats/abc/presence', headers, payload: { state: 'paused' } })).json()).toMatchObject({ code: 'invalid_recipient' });
      const group = await t.inject({ method: 'POST', url: '/api/v1/chats/120363012345678901@g.us/presence', headers, payload: { state: 'composing' } });
      expect(group.statusCode).toBe(403);
      expect(group.json()).toMatchObject({ code: 'plan_restriction' });
    });
  });
}
