import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { runtimes, start, type Started } from '../helpers/receiver-process.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { deliveries } from './helpers.js';

// Issue 8: the starter receivers, downloaded from the product with the account's secret filled
// in, run under their real runtimes as a sandbox account's webhook URL.
const extras: Record<string, { files: Record<string, string>; log: RegExp }> = {
  'receiver.php': { files: { htaccess: '.htaccess' }, log: /^webhooks-[0-9a-f]{16}\.log$/ },
  'receiver.mjs': { files: {}, log: /^webhooks\.log$/ },
  'receiver.py': { files: {}, log: /^webhooks\.log$/ },
};

for (const dialect of testDialects()) {
  describe(`starter receivers as real webhook URLs (${dialect})`, () => {
    let t: TestApp;
    const receivers: Started[] = [];
    const dirs: string[] = [];

    beforeAll(async () => {
      t = await startTestApp(dialect, { env: { ALLOW_PRIVATE_URLS: 'true' } });
    });
    afterAll(async () => {
      await Promise.all(receivers.map((r) => r.stop()));
      await t.close();
      for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
    });

    for (const rt of runtimes) {
      it(`${rt.name}: Test incoming, sent, failed, incoming and disconnect each land as exactly one log line`, async () => {
        const { apiKey } = await t.createAccount('unlimited');
        const headers = { 'x-api-key': apiKey };
        const extra = extras[rt.file]!;
        // The secret first (as "Rotate" in Settings does), so the download carries it before the
        // receiver runs and names the port it bound, which then becomes the webhook URL.
        expect((await t.inject({ method: 'POST', url: '/api/v1/webhooks/secret', headers })).statusCode).toBe(200);

        // Downloaded from the product: the secret is already on its marked line.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'messageapi-receiver-'));
        dirs.push(dir);
        for (const [name, file] of Object.entries({ [rt.file]: rt.file, ...extra.files })) {
          const res = await t.inject({ method: 'GET', url: `/api/v1/webhooks/receivers/${name}`, headers });
          expect(res.statusCode).toBe(200);
          fs.writeFileSync(path.join(dir, file), res.body);
        }
        const receiver = await start(rt, dir, undefined);
        receivers.push(receiver);
        const url = `${receiver.url}${rt.file === 'receiver.php' ? 'receiver.php' : 'hook'}`;
        const set = await t.inject({ method: 'PATCH', url: '/api/v1/settings', headers, payload: { webhookUrl: url } });
        expect(set.statusCode).toBe(200);
        expect(set.json().webhookSecret).toBeUndefined(); // the downloaded secret is the one that signs

        const test = await t.inject({ method: 'POST', url: '/api/v1/webhooks/test', headers });
        expect(test.json()).toMatchObject({ success: true, status: 200 });
        await t.inject({ method: 'POST', url: '/api/v1/send', headers, payload: { recipient: '12125551234', text: 'sent' } });
        await t.inject({ method: 'POST', url: '/api/v1/send', headers, payload: { recipient: '12125550000', text: 'failed' } });
        await t.inject({ method: 'POST', url: '/api/v1/sandbox/incoming', headers, payload: { from: '12125559876', text: 'incoming' } });
        await t.inject({ method: 'POST', url: '/api/v1/sandbox/disconnect', headers, payload: { reason: 'logged_out' } });
        await expect.poll(async () => (await deliveries(t, apiKey)).filter((d) => d.status === 'delivered').length, { timeout: 10_000 }).toBe(5);

        // A redelivery (same webhook-id) is answered but not logged again.
        const [latest] = await deliveries(t, apiKey);
        await t.inject({ method: 'POST', url: `/api/v1/webhooks/deliveries/${latest.id}/redeliver`, headers });
        await expect.poll(async () => (await deliveries(t, apiKey)).filter((d) => d.status === 'delivered').length, { timeout: 10_000 }).toBe(6);

        const logFile = fs.readdirSync(dir).find((f) => extra.log.test(f));
        expect(logFile, `log in ${fs.readdirSync(dir).join(', ')}`).toBeDefined();
        const lines = fs.readFileSync(path.join(dir, logFile!), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
        expect(lines.map((l) => l.event.event).sort()).toEqual(['message.failed', 'message.received', 'message.received', 'message.sent', 'session.disconnected']);
        expect(lines.find((l) => l.event.test === true)).toBeDefined();
        expect(new Set(lines.map((l) => l.webhookId)).size).toBe(5);
        const ids = (await deliveries(t, apiKey)).map((d) => d.eventId);
        for (const line of lines) expect(ids).toContain(line.webhookId);
      });
    }
  });
}
