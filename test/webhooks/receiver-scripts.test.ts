import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { freePort } from '../helpers/server-process.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { deliveries, sleep } from './helpers.js';

// Issue 8: the starter receivers, downloaded from the product with the account's secret filled
// in, run under their real runtimes as a sandbox account's webhook URL.
const runtimes = [
  { name: 'PHP', file: 'receiver.php', extra: { htaccess: '.htaccess' }, cmd: (port: number) => ['php', ['-S', `127.0.0.1:${port}`, 'receiver.php']] as const, log: /^webhooks-[0-9a-f]{16}\.log$/ },
  { name: 'Node.js', file: 'receiver.mjs', extra: {}, cmd: () => [process.execPath, ['receiver.mjs']] as const, log: /^webhooks\.log$/ },
  { name: 'Python', file: 'receiver.py', extra: {}, cmd: () => ['python3', ['receiver.py']] as const, log: /^webhooks\.log$/ },
];

for (const dialect of testDialects()) {
  describe(`starter receivers as real webhook URLs (${dialect})`, () => {
    let t: TestApp;
    const children: ChildProcess[] = [];
    const dirs: string[] = [];

    beforeAll(async () => {
      t = await startTestApp(dialect, { env: { ALLOW_PRIVATE_URLS: 'true' } });
    });
    afterAll(async () => {
      for (const child of children) if (child.pid && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
      await t.close();
      for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
    });

    for (const rt of runtimes) {
      it(`${rt.name}: Test incoming, sent, failed, incoming and disconnect each land as exactly one log line`, async () => {
        const { apiKey } = await t.createAccount('unlimited');
        const headers = { 'x-api-key': apiKey };
        const port = await freePort();
        const url = `http://127.0.0.1:${port}/${rt.file === 'receiver.php' ? 'receiver.php' : 'hook'}`;
        const set = await t.inject({ method: 'PATCH', url: '/api/v1/settings', headers, payload: { webhookUrl: url } });
        expect(set.statusCode).toBe(200);

        // Downloaded from the product: the secret is already on its marked line.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'messageapi-receiver-'));
        dirs.push(dir);
        for (const [name, file] of Object.entries({ [rt.file]: rt.file, ...rt.extra })) {
          const res = await t.inject({ method: 'GET', url: `/api/v1/webhooks/receivers/${name}`, headers });
          expect(res.statusCode).toBe(200);
          fs.writeFileSync(path.join(dir, file), res.body);
        }
        const env: NodeJS.ProcessEnv = { ...process.env, HOST: '127.0.0.1', PORT: String(port) };
        delete env.WEBHOOK_SECRET;
        const [bin, args] = rt.cmd(port);
        const child = spawn(bin, [...args], { cwd: dir, env, detached: true, stdio: 'ignore' });
        children.push(child);
        for (let i = 0; ; i++) {
          try {
            await fetch(url, { signal: AbortSignal.timeout(500) });
            break;
          } catch {
            if (i > 100) throw new Error(`${rt.name} receiver did not start`);
            await sleep(100);
          }
        }

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

        const logFile = fs.readdirSync(dir).find((f) => rt.log.test(f));
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
