import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

for (const dialect of testDialects()) {
  describe(`editing and deleting sent messages (${dialect})`, () => {
    let t: TestApp;
    let key: string;
    let now = Date.UTC(2026, 10, 30, 6, 0, 0);

    beforeAll(async () => {
      t = await startTestApp(dialect, { clock: () => now });
      key = (await t.createAccount('trial')).apiKey;
    });
    afterAll(() => t.close());

    const headers = () => ({ 'x-api-key': key });
    const send = async (text: string) => (await t.inject({ method: 'POST', url: '/api/v1/send', headers: headers(), payload: { to: '12125551234', text } })).json().messageId as string;
    const get = async (id: string) => (await t.inject({ method: 'GET', url: `/api/v1/messages/${id}`, headers: headers() })).json();
    const records = async () => (await t.inject({ method: 'GET', url: '/api/v1/sandbox/sends?limit=1000', headers: headers() })).json().sends as Array<Record<string, any>>;

    it('edits a sent text: the edit is its own network record, and the message shows the new text and editedAt', async () => {
      const id = await send('typo');
      const edit = await t.inject({ method: 'PATCH', url: `/api/v1/messages/${id}`, headers: headers(), payload: { text: 'fixed' } });
      expect(edit.statusCode).toBe(200);
      expect(edit.json()).toMatchObject({ success: true, status: 'sent' });
      expect(edit.headers['ratelimit-limit']).toBeUndefined();
      const message = await get(id);
      expect(message).toMatchObject({ editedAt: new Date(now).toISOString(), revokedAt: null, content: { text: 'fixed' } });
      const record = (await records()).find((r) => r.messageId === edit.json().messageId);
      expect(record).toMatchObject({ type: 'edit', recipient: '12125551234', content: { text: 'fixed', edit: { messageId: id } } });
    });

    it('refuses an edit after about 15 minutes with a clear 400, and an edit of a poll', async () => {
      const id = await send('old');
      now += 16 * 60 * 1000;
      const late = await t.inject({ method: 'PATCH', url: `/api/v1/messages/${id}`, headers: headers(), payload: { text: 'too late' } });
      expect(late.statusCode).toBe(400);
      expect(late.json()).toMatchObject({ success: false, code: 'invalid_parameter' });
      expect(late.json().error).toMatch(/16 minutes ago.*15 minutes/);
      const poll = (await t.inject({ method: 'POST', url: '/api/v1/send/poll', headers: headers(), payload: { to: '12125551234', question: 'Q', options: ['a', 'b'] } })).json().messageId;
      const pollEdit = await t.inject({ method: 'PATCH', url: `/api/v1/messages/${poll}`, headers: headers(), payload: { text: 'x' } });
      expect(pollEdit.json().error).toMatch(/poll message has no text/);
    });

    it('deletes for everyone within about 2 days (revokedAt), idempotently, and refuses after', async () => {
      const id = await send('oops');
      const del = await t.inject({ method: 'DELETE', url: `/api/v1/messages/${id}`, headers: { ...headers(), 'idempotency-key': `del-${id}` } });
      expect(del.statusCode).toBe(200);
      const again = await t.inject({ method: 'DELETE', url: `/api/v1/messages/${id}`, headers: { ...headers(), 'idempotency-key': `del-${id}` } });
      expect(again.json().messageId).toBe(del.json().messageId);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(await get(id)).toMatchObject({ revokedAt: new Date(now).toISOString() });
      expect((await records()).filter((r) => r.type === 'revoke' && r.content.revoke.messageId === id)).toHaveLength(1);
      const twice = await t.inject({ method: 'DELETE', url: `/api/v1/messages/${id}`, headers: headers() });
      expect(twice.json().error).toMatch(/deleted for everyone/);

      const old = await send('ancient');
      now += 49 * 60 * 60 * 1000;
      const late = await t.inject({ method: 'DELETE', url: `/api/v1/messages/${old}`, headers: headers() });
      expect(late.statusCode).toBe(400);
      expect(late.json().error).toMatch(/about 2 days/);
    });

    it("answers 404 for an unknown id or another account's message", async () => {
      const other = await t.createAccount('trial');
      const theirs = (await t.inject({ method: 'POST', url: '/api/v1/send', headers: { 'x-api-key': other.apiKey }, payload: { to: '12125551234', text: 'x' } })).json().messageId;
      const res = await t.inject({ method: 'DELETE', url: `/api/v1/messages/${theirs}`, headers: headers() });
      expect(res.statusCode).toBe(404);
      expect((await t.inject({ method: 'PATCH', url: '/api/v1/messages/nope', headers: headers(), payload: { text: 'x' } })).statusCode).toBe(404);
    });
  });
}
