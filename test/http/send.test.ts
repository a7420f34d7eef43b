import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { testDialects } from '../helpers/databases.js';

for (const dialect of testDialects()) {
  describe(`sending (${dialect})`, () => {
    let t: TestApp;
    let key: string;

    beforeAll(async () => {
      t = await startTestApp(dialect);
      key = (await t.createAccount('unlimited')).apiKey;
    });
    afterAll(() => t.close());

    it('sends a text with GET /send.php and the key in the query, as the reference shows', async () => {
      const res = await t.inject({ method: 'GET', url: `/send.php?recipient=12125551234&apikey=${key}&text=Hello%20there` });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body).toEqual({ success: true, messageId: expect.any(String), status: 'sent' });
      const status = await t.inject({ method: 'GET', url: `/api/v1/messages/${body.messageId}`, headers: { 'x-api-key': key } });
      expect(status.json()).toMatchObject({ success: true, messageId: body.messageId, status: 'sent', recipient: '12125551234', type: 'text', error: null });
      expect(status.json().sentAt).toMatch(/^\d{4}-\d{2}-\d{2}T.*Z$/);
    });

    it('accepts POST /send.php with form fields', async () => {
      const res = await t.inject({
        method: 'POST',
        url: '/send.php',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: `recipient=%2B1%20(212)%20555-1234&apikey=${key}&text=form`,
      });
      expect(res.statusCode).toBe(200);
      expect(res.json().status).toBe('sent');
    });

    it('sends JSON to /api/v1/send with the `to` alias and the header key', async () => {
      const res = await t.inject({ method: 'POST', url: '/api/v1/send', headers: { 'x-api-key': key }, payload: { to: '12125551234', text: 'json' } });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ success: true, status: 'sent' });
    });

    it('refuses a field and its alias with different values (to/recipient, caption/text, image/file), accepts them equal, and names the alias sent', async () => {
      const post = (url: string, payload: object) => t.inject({ method: 'POST', url, headers: { 'x-api-key': key }, payload: { wait: 0, ...payload } });
      const conflicts: [string, object, string][] = [
        ['/api/v1/send', { recipient: '12125551234', to: '12125559999', text: 'hi' }, 'recipient and to'],
        ['/api/v1/send/image', { to: '12125551234', image: 'https://example.com/a.jpg', file: 'https://example.com/b.jpg' }, 'file and image'],
        ['/api/v1/send/image', { to: '12125551234', file: 'https://example.com/a.jpg', text: 'one', caption: 'two' }, 'text and caption'],
        ['/api/v1/send/document', { recipient: '12125551234', to: '+1 212 555 1234', document: 'https://example.com/a.pdf' }, 'recipient and to'],
      ];
      for (const [url, payload, fields] of conflicts) {
        const res = await post(url, payload);
        expect(res.statusCode, url).toBe(400);
        expect(res.json()).toMatchObject({ success: false, code: 'invalid_parameter', error: expect.stringContaining(fields) });
      }
      const same = await post('/api/v1/send/image', { recipient: '12125551234', to: '12125551234', image: 'https://example.com/a.jpg', file: 'https://example.com/a.jpg' });
      expect(same.statusCode).toBe(200);
      const badImage = await post('/api/v1/send/image', { to: '12125551234', image: 'ftp://example.com/a.jpg' });
      expect(badImage.statusCode).toBe(400);
      expect(badImage.json().error).toMatch(/\bimage URL\b/);
      expect(badImage.json().error).not.toMatch(/\bfile\b/);
      const blank = await post('/api/v1/send/image', { to: '12125551234', image: ' ' });
      expect(blank.json()).toMatchObject({ code: 'missing_parameter', error: 'Missing required parameter: image' });
    });

    it('answers at once with status pending when wait=0, and the message is sent afterwards', async () => {
      const res = await t.inject({ method: 'POST', url: '/api/v1/send', headers: { 'x-api-key': key }, payload: { recipient: '12125551234', text: 'fast', wait: 0 } });
      expect(res.json()).toMatchObject({ success: true, status: 'pending' });
      const id = res.json().messageId;
      await expect.poll(async () => (await t.inject({ method: 'GET', url: `/api/v1/messages/${id}`, headers: { 'x-api-key': key } })).json().status, { timeout: 10_000 }).toBe('sent');
    });

    it('fails a number that is not on WhatsApp with send_failed and the logged messageId', async () => {
      const res = await t.inject({ method: 'POST', url: '/api/v1/send', headers: { 'x-api-key': key }, payload: { recipient: '12125550000', text: 'nobody' } });
      expect(res.statusCode).toBe(400);
      const body = res.json();
      expect(body).toMatchObject({ success: false, code: 'send_failed', messageId: expect.any(String) });
      expect(body.error).toMatch(/not on WhatsApp/);
      const status = await t.inject({ method: 'GET', url: `/api/v1/messages/${body.messageId}`, headers: { 'x-api-key': key } });
      expect(status.json()).toMatchObject({ status: 'failed', error: expect.stringMatching(/not on WhatsApp/) });
    });

    it('keeps a …0001 number pending for 30 s (sandbox magic number)', async () => {
      const res = await t.inject({ method: 'POST', url: '/api/v1/send', headers: { 'x-api-key': key }, payload: { recipient: '12125550001', text: 'slow', wait: 300 } });
      expect(res.json()).toMatchObject({ success: true, status: 'pending' });
      const job = await t.runtime.store.db.selectFrom('outbox').selectAll().where('ref', '=', res.json().messageId).executeTakeFirstOrThrow();
      const message = await t.runtime.store.db.selectFrom('messages').selectAll().where('id', '=', res.json().messageId).executeTakeFirstOrThrow();
      expect(job.run_at).toBe(message.created_at + 30_000);
    });

    it('sends to a group on Unlimited and lists the groups', async () => {
      const groups = await t.inject({ method: 'GET', url: '/api/v1/groups', headers: { 'x-api-key': key } });
      expect(groups.statusCode).toBe(200);
      const [group] = groups.json().groups;
      expect(group).toMatchObject({ id: expect.stringMatching(/@g\.us$/), name: expect.any(String), participants: expect.any(Number) });
      const res = await t.inject({ method: 'POST', url: '/api/v1/send', headers: { 'x-api-key': key }, payload: { recipient: group.id, text: 'team' } });
      expect(res.json()).toMatchObject({ success: true, status: 'sent' });
    });

    it('records every send in the sandbox network log, oldest first, with cursor paging', async () => {
      // Sends of its own on an account of its own, so the log is exactly these whichever tests ran before.
      const own = (await t.createAccount('unlimited')).apiKey;
      const sent: string[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await t.inject({ method: 'POST', url: '/api/v1/send', headers: { 'x-api-key': own }, payload: { recipient: '12125551234', text: `logged ${i}` } });
        expect(res.json()).toMatchObject({ status: 'sent' });
        sent.push(res.json().messageId);
      }
      const all: Array<{ messageId: string }> = [];
      let cursor: string | null = null;
      do {
        const url: string = `/api/v1/sandbox/sends?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
        const page = (await t.inject({ method: 'GET', url, headers: { 'x-api-key': own } })).json();
        all.push(...page.sends);
        cursor = page.nextCursor;
      } while (cursor);
      expect(all.map((s) => s.messageId)).toEqual(sent);
    });

    it('replays an Idempotency-Key instead of sending twice', async () => {
      const headers = { 'x-api-key': key, 'idempotency-key': 'order-42' };
      const first = await t.inject({ method: 'POST', url: '/api/v1/send', headers, payload: { recipient: '12125557777', text: 'once' } });
      const second = await t.inject({ method: 'POST', url: '/api/v1/send', headers, payload: { recipient: '12125557777', text: 'once' } });
      expect(second.json().messageId).toBe(first.json().messageId);
      expect(second.headers['idempotent-replayed']).toBe('true');
      const sends = await t.runtime.store.db.selectFrom('sandbox_sends').selectAll().where('recipient', '=', '12125557777').execute();
      expect(sends).toHaveLength(1);
    });
  });
}
