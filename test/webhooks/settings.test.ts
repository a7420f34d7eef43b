import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { testDialects } from '../helpers/databases.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { TestReceiver } from './receiver.js';

for (const dialect of testDialects()) {
  describe(`settings (${dialect})`, () => {
    let t: TestApp;
    beforeAll(async () => {
      // No ALLOW_PRIVATE_URLS here: the SSRF guard is on, as in production.
      t = await startTestApp(dialect);
    });
    afterAll(() => t.close());

    const get = (key: string) => t.inject({ method: 'GET', url: '/api/v1/settings', headers: { 'x-api-key': key } });
    const patch = (key: string, payload: object) => t.inject({ method: 'PATCH', url: '/api/v1/settings', headers: { 'x-api-key': key }, payload });

    it('shows the defaults of SPEC §5, and that mail is not configured', async () => {
      const { apiKey } = await t.createAccount('unlimited', { email: `a-${dialect}@example.com` });
      const res = await get(apiKey);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({
        success: true,
        email: `a-${dialect}@example.com`,
        plan: 'unlimited',
        webhookUrl: null,
        webhookSecretPrefix: null,
        webhookState: 'none',
        webhookStoppedAt: null,
        disconnectEmail: true,
        mailConfigured: false,
        webhookEvents: ['message.received', 'message.sent', 'message.failed', 'session.disconnected'],
        inlineMediaMaxBytes: 0,
        inlineMediaLimit: 256 * 1024,
      });
    });

    it('refuses a webhook URL below Unlimited with 403 plan_restriction', async () => {
      for (const plan of ['trial', 'personal']) {
        const { apiKey } = await t.createAccount(plan);
        const res = await patch(apiKey, { webhookUrl: 'https://example.com/hook' });
        expect(res.statusCode).toBe(403);
        expect(res.json()).toMatchObject({ success: false, code: 'plan_restriction' });
        expect(res.json().error).toMatch(/Unlimited/);
        const rotate = await t.inject({ method: 'POST', url: '/api/v1/webhooks/secret', headers: { 'x-api-key': apiKey } });
        expect(rotate.statusCode).toBe(403);
      }
    });

    it('refuses loopback, private and malformed webhook URLs with 400 invalid_url', async () => {
      const { apiKey } = await t.createAccount('unlimited');
      for (const url of ['http://127.0.0.1:8080/hook', 'http://localhost/hook', 'http://[::1]/x', 'http://0x7f000001/', 'http://10.0.0.5/', 'http://169.254.169.254/latest', 'ftp://example.com/', 'not a url', 'http://user:pw@example.com/']) {
        const res = await patch(apiKey, { webhookUrl: url });
        expect(res.statusCode, url).toBe(400);
        expect(res.json().code, url).toBe('invalid_url');
        expect(res.json().error).toMatch(/webhook URL/);
      }
      expect((await get(apiKey)).json().webhookUrl).toBeNull();
    });

    it('gives a secret with the first URL, once; keeps it when the URL changes; rotates it on request', async () => {
      const { apiKey } = await t.createAccount('unlimited');
      const first = await patch(apiKey, { webhookUrl: 'https://hooks.example.com/a' });
      expect(first.statusCode).toBe(200);
      const secret: string = first.json().webhookSecret;
      expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
      expect(() => new Webhook(secret)).not.toThrow();
      expect(first.json()).toMatchObject({ webhookUrl: 'https://hooks.example.com/a', webhookSecretPrefix: secret.slice(0, 10), webhookState: 'active' });

      const second = await patch(apiKey, { webhookUrl: 'https://hooks.example.com/b' });
      expect(second.json().webhookSecret).toBeUndefined();
      expect(second.json().webhookSecretPrefix).toBe(secret.slice(0, 10));
      expect((await get(apiKey)).json().webhookSecret).toBeUndefined();

      const rotated = await t.inject({ method: 'POST', url: '/api/v1/webhooks/secret', headers: { 'x-api-key': apiKey } });
      expect(rotated.statusCode).toBe(200);
      expect(rotated.json().webhookSecret).toMatch(/^whsec_/);
      expect(rotated.json().webhookSecret).not.toBe(secret);
      expect((await get(apiKey)).json().webhookSecretPrefix).toBe(rotated.json().webhookSecret.slice(0, 10));

      const removed = await patch(apiKey, { webhookUrl: null });
      expect(removed.json()).toMatchObject({ webhookUrl: null, webhookState: 'none' });
      expect((await patch(apiKey, { webhookUrl: '' })).json().webhookUrl).toBeNull();
    });

    it('stores the signing secret encrypted', async () => {
      const { id, apiKey } = await t.createAccount('unlimited');
      const secret = (await patch(apiKey, { webhookUrl: 'https://hooks.example.com/enc' })).json().webhookSecret as string;
      const row = await t.runtime.store.db.selectFrom('accounts').select('webhook_secret').where('id', '=', id).executeTakeFirstOrThrow();
      expect(row.webhook_secret).not.toContain(secret.slice(6, 20));
      expect(row.webhook_secret).toMatch(/^v1\./);
    });

    it('switches disconnect e-mails on every plan, and rejects unknown fields and wrong types', async () => {
      const { apiKey } = await t.createAccount('trial');
      const off = await patch(apiKey, { disconnectEmail: false });
      expect(off.statusCode).toBe(200);
      expect(off.json().disconnectEmail).toBe(false);
      expect((await get(apiKey)).json().disconnectEmail).toBe(false);
      expect((await patch(apiKey, { disconnectEmail: true })).json().disconnectEmail).toBe(true);
      const typo = await patch(apiKey, { disconectEmail: false });
      expect(typo.statusCode).toBe(400);
      expect(typo.json().code).toBe('invalid_parameter');
      const wrong = await patch(apiKey, { disconnectEmail: 'maybe' });
      expect(wrong.statusCode).toBe(400);
    });

    it('lists and frees Personal-plan recipients', async () => {
      const { apiKey } = await t.createAccount('personal');
      for (const r of ['12125550101', '12125550102']) {
        expect((await t.inject({ method: 'POST', url: '/api/v1/send', headers: { 'x-api-key': apiKey }, payload: { recipient: r, text: 'hi' } })).statusCode).toBe(200);
      }
      expect((await get(apiKey)).json().allowedRecipients).toEqual(['12125550101', '12125550102']);
      const freed = await t.inject({ method: 'DELETE', url: '/api/v1/settings/recipients/%2B1%20212%20555%200101', headers: { 'x-api-key': apiKey } });
      expect(freed.statusCode).toBe(200);
      expect(freed.json()).toEqual({ success: true, allowedRecipients: ['12125550102'] });
      const again = await t.inject({ method: 'DELETE', url: '/api/v1/settings/recipients/12125550101', headers: { 'x-api-key': apiKey } });
      expect(again.statusCode).toBe(404);
      expect(again.json().code).toBe('not_found');
    });

    it('checks the URL again at every delivery: a URL that now points to loopback gets nothing', async () => {
      const receiver = await TestReceiver.start();
      try {
        const { id, apiKey } = await t.createAccount('unlimited');
        receiver.secret = (await patch(apiKey, { webhookUrl: 'https://hooks.example.com/later' })).json().webhookSecret;
        // As if the name were re-pointed at a private address after it was set.
        await t.runtime.store.write((tx) => tx.updateTable('accounts').set({ webhook_url: receiver.url }).where('id', '=', id).execute());
        await t.inject({ method: 'POST', url: '/api/v1/sandbox/incoming', headers: { 'x-api-key': apiKey }, payload: { from: '12125559876', text: 'hi' } });
        await expect.poll(async () => (await t.inject({ method: 'GET', url: '/api/v1/webhooks/deliveries', headers: { 'x-api-key': apiKey } })).json().deliveries[0]?.attempts, { timeout: 10_000 }).toBe(2);
        const [delivery] = (await t.inject({ method: 'GET', url: '/api/v1/webhooks/deliveries', headers: { 'x-api-key': apiKey } })).json().deliveries;
        expect(delivery).toMatchObject({ status: 'pending', lastStatus: null, lastError: expect.stringMatching(/127\.0\.0\.1.*only public internet addresses/) });
        const test = await t.inject({ method: 'POST', url: '/api/v1/webhooks/test', headers: { 'x-api-key': apiKey } });
        expect(test.json()).toMatchObject({ success: true, status: null, error: expect.stringMatching(/only public/) });
        expect(receiver.received).toHaveLength(0);
      } finally {
        await receiver.close();
      }
    });

    it('needs an API key', async () => {
      expect((await t.inject({ method: 'GET', url: '/api/v1/settings' })).statusCode).toBe(401);
      expect((await t.inject({ method: 'GET', url: '/api/v1/webhooks/deliveries' })).statusCode).toBe(401);
      expect((await t.inject({ method: 'POST', url: '/api/v1/webhooks/test' })).statusCode).toBe(401);
    });

    it('serves the receivers: public with the placeholder, through the API with the secret filled in', async () => {
      for (const name of ['receiver.php', 'receiver.mjs', 'receiver.py']) {
        const pub = await t.inject({ method: 'GET', url: `/receivers/${name}` });
        expect(pub.statusCode).toBe(200);
        expect(pub.headers['content-disposition']).toBe(`attachment; filename="${name}"`);
        expect(pub.body.split('\n').filter((l) => l.includes('whsec_REPLACE_ME'))).toHaveLength(1);
      }
      const htaccess = await t.inject({ method: 'GET', url: '/receivers/htaccess' });
      expect(htaccess.headers['content-disposition']).toBe('attachment; filename=".htaccess"');
      expect((await t.inject({ method: 'GET', url: '/receivers/secret.key' })).statusCode).toBe(400);
      expect((await t.inject({ method: 'GET', url: '/receivers/..%2F.env' })).statusCode).toBe(400);

      const { apiKey } = await t.createAccount('unlimited');
      const secret = (await patch(apiKey, { webhookUrl: 'https://hooks.example.com/r' })).json().webhookSecret as string;
      const mine = await t.inject({ method: 'GET', url: '/api/v1/webhooks/receivers/receiver.py', headers: { 'x-api-key': apiKey } });
      expect(mine.statusCode).toBe(200);
      expect(mine.headers['cache-control']).toBe('no-store');
      expect(mine.body).toContain(secret);
      expect(mine.body).not.toContain('whsec_REPLACE_ME');
      expect((await t.inject({ method: 'GET', url: '/api/v1/webhooks/receivers/receiver.py' })).statusCode).toBe(401);
      const docs = await t.inject({ method: 'GET', url: '/openapi.json' });
      for (const name of ['receiver.php', 'receiver.mjs', 'receiver.py']) expect(docs.json().info.description).toContain(`(/receivers/${name})`);
      const list = await t.inject({ method: 'GET', url: '/api/v1/webhooks/receivers', headers: { 'x-api-key': apiKey } });
      expect(list.json().receivers.map((r: { name: string }) => r.name)).toEqual(['receiver.php', 'receiver.mjs', 'receiver.py']);
      for (const r of list.json().receivers) {
        expect(r.steps).toHaveLength(3);
        expect((await t.inject({ method: 'GET', url: r.url, headers: { 'x-api-key': apiKey } })).body).toContain(secret);
        expect((await t.inject({ method: 'GET', url: r.publicUrl })).statusCode).toBe(200);
      }
    });
  });
}
