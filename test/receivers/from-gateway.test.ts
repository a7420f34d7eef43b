// Issue 8 as a user tries it: the gateway (sandbox) delivers real events to each starter receiver,
// downloaded from the gateway with the account's secret filled in, running under its own runtime.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { freePort, runtimes, start, type Launched } from '../helpers/receiver-process.js';

interface LogLine {
  webhookId: string;
  event: { event: string; test?: boolean; message?: { id: string; status?: string; text?: string } ; reason?: string };
}

function readLog(dir: string): LogLine[] {
  const file = readdirSync(dir).find((f) => f.endsWith('.log'));
  if (!file) return [];
  return readFileSync(join(dir, file), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as LogLine);
}

describe('starter receivers fed by the gateway', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('sqlite', { env: { ALLOW_PRIVATE_URLS: 'true' } });
  });
  afterAll(() => t.close());

  for (const runtime of runtimes) {
    it(`${runtime.name}: test incoming, a sent and a failed message, an incoming message and a disconnect land once each`, { timeout: 60_000 }, async () => {
      const { apiKey } = await t.createAccount('unlimited');
      const headers = { 'x-api-key': apiKey };
      const port = await freePort();
      const settings = await t.inject({ method: 'PATCH', url: '/api/v1/settings', headers, payload: { webhookUrl: `http://127.0.0.1:${port}/` } });
      expect(settings.statusCode, settings.body).toBe(200);
      const secret: string = settings.json().webhookSecret;
      expect(secret).toMatch(/^whsec_/);

      // Downloaded from the product while signed in: the account's secret is already in it.
      const script = await t.inject({ method: 'GET', url: `/api/v1/webhooks/receivers/${runtime.file}`, headers });
      expect(script.statusCode).toBe(200);
      expect(script.body).toContain(secret);
      expect(script.body).not.toContain('whsec_REPLACE_ME');
      const dir = mkdtempSync(join(tmpdir(), 'receiver-e2e-'));
      writeFileSync(join(dir, runtime.file), script.body);
      let receiver: Launched | undefined;
      try {
        receiver = await start(runtime, dir, undefined, port);
        const test = await t.inject({ method: 'POST', url: '/api/v1/webhooks/test', headers });
        expect(test.json()).toMatchObject({ success: true, status: 200 });
        const sent = (await t.inject({ method: 'POST', url: '/api/v1/send', headers, payload: { recipient: '12125551234', text: 'hello' } })).json();
        const failed = (await t.inject({ method: 'POST', url: '/api/v1/send', headers, payload: { recipient: '12125550000', text: 'nobody' } })).json();
        expect(sent.status).toBe('sent');
        expect(failed.code).toBe('send_failed');
        await t.inject({ method: 'POST', url: '/api/v1/sandbox/incoming', headers, payload: { from: '447700900123', text: 'hi there' } });
        await t.inject({ method: 'POST', url: '/api/v1/sandbox/disconnect', headers, payload: { reason: 'logged_out' } });

        await expect.poll(() => readLog(dir).length, { timeout: 20_000, interval: 100 }).toBe(5);
        await new Promise((r) => setTimeout(r, 500)); // nothing more arrives
        const lines = readLog(dir);
        expect(lines).toHaveLength(5);
        expect(new Set(lines.map((l) => l.webhookId)).size).toBe(5);
        const byKind = (kind: string) => lines.filter((l) => l.event.event === kind);
        expect(byKind('message.received').filter((l) => l.event.test === true)).toHaveLength(1);
        expect(byKind('message.received').filter((l) => l.event.message?.text === 'hi there')).toHaveLength(1);
        expect(byKind('message.sent').map((l) => l.event.message?.id)).toEqual([sent.messageId]);
        expect(byKind('message.failed').map((l) => l.event.message?.id)).toEqual([failed.messageId]);
        expect(byKind('session.disconnected').map((l) => l.event.reason)).toEqual(['logged_out']);
      } finally {
        await receiver?.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
