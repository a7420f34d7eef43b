import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

for (const dialect of testDialects()) {
  describe(`/send.php aliases and /whatsapp.php (${dialect})`, () => {
    let t: TestApp;
    let key: string;

    beforeAll(async () => {
      t = await startTestApp(dialect, { env: { PLAN_TRIAL_DAILY_LIMIT: '4' } });
      key = (await t.createAccount('unlimited')).apiKey;
    });
    afterAll(() => t.close());

    const messageOf = async (id: string) => (await t.inject({ method: 'GET', url: `/api/v1/messages/${id}`, headers: { 'x-api-key': key } })).json();

    it.each([
      ['phone', 'body'],
      ['to', 'message'],
      ['number', 'text'],
      ['chatId', 'body'],
    ])('takes %s for recipient and %s for text', async (recipientName, textName) => {
      const res = await t.inject({ method: 'GET', url: `/send.php?${recipientName}=12125551234&${textName}=hi%20${recipientName}&token=${key}` });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ success: true, status: 'sent' });
      expect(await messageOf(res.json().messageId)).toMatchObject({ recipient: '12125551234', type: 'text' });
    });

    it.each(['12125551234@c.us', '12125551234@s.whatsapp.net', '+12125551234@c.us'])('normalises the WhatsApp id %s to the phone number', async (jid) => {
      const res = await t.inject({ method: 'GET', url: `/send.php?chatId=${encodeURIComponent(jid)}&message=jid&apikey=${key}` });
      expect(res.statusCode).toBe(200);
      expect(await messageOf(res.json().messageId)).toMatchObject({ recipient: '12125551234' });
    });

    it('takes image for file and caption for the caption', async () => {
      // The message is accepted as an image with its caption, whatever the (offline) fetch then does.
      const res = await t.inject({ method: 'GET', url: `/send.php?phone=12125551234&image=${encodeURIComponent('https://example.com/cat.jpg')}&caption=cat&apikey=${key}&wait=0` });
      expect(res.statusCode).toBe(200);
      const row = await t.runtime.store.db.selectFrom('messages').selectAll().where('id', '=', res.json().messageId).executeTakeFirstOrThrow();
      expect(row).toMatchObject({ kind: 'image', recipient: '12125551234', text: 'cat' });
    });

    it('accepts the same value under two names', async () => {
      const res = await t.inject({ method: 'GET', url: `/send.php?phone=12125551234&to=12125551234&text=same&message=same&apikey=${key}&token=${key}` });
      expect(res.statusCode).toBe(200);
    });

    it.each([
      ['phone=12125551234&to=12125551239&text=x', 'phone', 'to'],
      ['recipient=12125551234&chatId=12125551239%40c.us&text=x', 'recipient', 'chatId'],
      ['phone=12125551234&text=a&body=b', 'text', 'body'],
      ['phone=12125551234&message=a&caption=b', 'message', 'caption'],
      ['phone=12125551234&text=a&file=http%3A%2F%2F127.0.0.1%2Fa.jpg&image=http%3A%2F%2F127.0.0.1%2Fb.jpg', 'file', 'image'],
    ])('refuses two different values (%s) with a 400 naming both fields', async (query, first, second) => {
      const res = await t.inject({ method: 'GET', url: `/send.php?${query}&apikey=${key}` });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ success: false, code: 'invalid_parameter' });
      expect(res.json().error).toContain(first);
      expect(res.json().error).toContain(second);
    });

    it('refuses apikey and token with two different keys, naming both', async () => {
      const res = await t.inject({ method: 'GET', url: `/send.php?phone=12125551234&text=x&apikey=${key}&token=other` });
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toMatch(/apikey and token/);
    });

    it('ignores fields it does not know on the GET endpoint', async () => {
      const res = await t.inject({ method: 'GET', url: `/send.php?phone=12125551234&text=x&apikey=${key}&source=uptime-kuma&title=Down` });
      expect(res.statusCode).toBe(200);
    });

    it('answers CallMeBot clients in text/plain on GET /whatsapp.php', async () => {
      const res = await t.inject({ method: 'GET', url: `/whatsapp.php?phone=%2B12125551234&text=Hello%20CallMeBot&apikey=${key}` });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
      const id = /Message id: (\S+)/.exec(res.body)?.[1];
      expect(res.body).toMatch(/^Message Sent\./);
      expect(await messageOf(id!)).toMatchObject({ status: 'sent', recipient: '12125551234', type: 'text' });
    });

    it('says "Message queued" when the outcome is not known yet', async () => {
      const res = await t.inject({ method: 'GET', url: `/whatsapp.php?phone=12125551234&text=later&apikey=${key}&wait=0` });
      expect(res.statusCode).toBe(200);
      expect(res.body).toMatch(/^Message queued\. .* Message id: \S+\n$/);
    });

    it('answers errors in plain text with their HTTP status', async () => {
      const noKey = await t.inject({ method: 'GET', url: '/whatsapp.php?phone=12125551234&text=x&apikey=wrong' });
      expect(noKey.statusCode).toBe(401);
      expect(noKey.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(noKey.body).toMatch(/^Error: .*\(invalid_api_key\)\n$/);
      const noText = await t.inject({ method: 'GET', url: `/whatsapp.php?phone=12125551234&apikey=${key}` });
      expect(noText.statusCode).toBe(400);
      expect(noText.body).toMatch(/^Error: .*text.*\(missing_parameter\)\n$/);
      const badWait = await t.inject({ method: 'GET', url: `/whatsapp.php?phone=12125551234&text=x&apikey=${key}&wait=soon` });
      expect(badWait.statusCode).toBe(400);
      expect(badWait.body).toMatch(/^Error: .*wait.*\(invalid_parameter\)\n$/);
      const failed = await t.inject({ method: 'GET', url: `/whatsapp.php?phone=12125550000&text=x&apikey=${key}` });
      expect(failed.statusCode).toBe(400);
      expect(failed.body).toMatch(/^Error: .*not on WhatsApp.*\(send_failed\) Message id: \S+\n$/);
    });

    it('counts /whatsapp.php sends against the same daily quota as /send.php', async () => {
      const trial = await t.createAccount('trial');
      const limit = 4; // PLAN_TRIAL_DAILY_LIMIT above
      for (let i = 0; i < limit; i++) {
        const res = await t.inject({ method: 'GET', url: `/${i % 2 ? 'whatsapp' : 'send'}.php?phone=12125551234&text=n${i}&apikey=${trial.apiKey}&wait=0` });
        expect(res.statusCode).toBe(200);
      }
      const over = await t.inject({ method: 'GET', url: `/whatsapp.php?phone=12125551234&text=over&apikey=${trial.apiKey}` });
      expect(over.statusCode).toBe(429);
      expect(over.body).toMatch(/\(daily_limit_reached\)/);
      expect(over.headers['retry-after']).toBeDefined();
    });
  });

  describe(`/whatsapp.php turned off (${dialect})`, () => {
    it('is a 404 with CALLMEBOT_COMPAT=false', async () => {
      const t = await startTestApp(dialect, { env: { CALLMEBOT_COMPAT: 'false' } });
      try {
        const { apiKey } = await t.createAccount('unlimited');
        const res = await t.inject({ method: 'GET', url: `/whatsapp.php?phone=12125551234&text=x&apikey=${apiKey}` });
        expect(res.statusCode).toBe(404);
        expect((await t.inject({ method: 'GET', url: `/send.php?phone=12125551234&text=x&apikey=${apiKey}` })).statusCode).toBe(200);
      } finally {
        await t.close();
      }
    });
  });
}
