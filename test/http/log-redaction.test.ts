import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { testDialects } from '../helpers/databases.js';

/** Every character percent-encoded, as a client trying to slip past a filter would send it. */
const encodeAll = (text: string) => [...Buffer.from(text)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');

/** The log with every percent-escape decoded (repeatedly), so that no spelling of a secret hides in it. */
function decodedEverywhere(text: string): string {
  let current = text;
  for (let i = 0; i < 4; i++) current = current.replace(/%[0-9A-Fa-f]{2}/g, (escape) => String.fromCharCode(parseInt(escape.slice(1), 16)));
  return current;
}

for (const dialect of testDialects()) {
  describe(`keys and media tokens never reach the log (${dialect})`, () => {
    let t: TestApp;
    let base: string;
    let key: string;
    let logFile: string;

    beforeAll(async () => {
      logFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'messageapi-log-')), 'server.log');
      const log = createLogger('info', pino.destination({ dest: logFile, sync: true }));
      t = await startTestApp(dialect, { log, env: { LOG_LEVEL: 'info' } });
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
      key = (await t.createAccount('unlimited')).apiKey;
    });
    afterAll(async () => {
      await t.close();
      fs.rmSync(path.dirname(logFile), { recursive: true, force: true });
    });

    it('redacts keys in any spelling and media URLs’ query strings from request lines', async () => {
      const token = 'SIGNEDURLTOKEN0123456789abcdef';
      const mediaUrl = `https://media.example.com/photos/cat.png?X-Amz-Signature=${token}&expires=1`;
      const otherToken = 'otherSIGNEDtoken9876543210';
      const docUrl = `https://files.example.com/report.pdf?token=${otherToken}`;
      const answers = [
        // An encoded parameter name, accepted as `apikey`, with the key percent-encoded too.
        await fetch(`${base}/send.php?api%6Bey=${encodeAll(key)}&recipient=12125551234&text=hi`),
        await fetch(`${base}/send.php?APIKEY=${encodeAll(key)}&recipient=12125551234&text=hi`),
        await fetch(`${base}/send.php?apikey=${key}&recipient=12125551234&file=${encodeURIComponent(mediaUrl)}`),
        await fetch(`${base}/send.php?apikey=${key}&recipient=12125551234&document=${encodeAll(docUrl)}`),
        await fetch(`${base}/api/v1/status?%61pikey=${encodeAll(key)}`),
        await fetch(`${base}/api/v1/messages/${encodeAll(key)}`, { headers: { 'x-api-key': key } }),
        await fetch(`${base}/nothing-here/${encodeURIComponent(key)}?note=${encodeAll(encodeAll(key))}`),
      ];
      expect(answers[0]!.status, await answers[0]!.text()).toBe(200);
      expect(answers[4]!.status).toBe(200);

      const log = fs.readFileSync(logFile, 'utf8');
      expect(log).toMatch(/"url":"\/send\.php\?api%6Bey=\[REDACTED\]/);
      expect(log).toContain('media.example.com%2Fphotos%2Fcat.png');
      for (const secret of [key.slice(4), token, otherToken]) {
        expect(log).not.toContain(secret);
        expect(decodedEverywhere(log)).not.toContain(secret);
      }
    });
  });
}
