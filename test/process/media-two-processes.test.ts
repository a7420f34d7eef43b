import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount } from '../../src/core/accounts.js';
import { Store } from '../../src/store/store.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../helpers/databases.js';
import { ROOT, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { tinyPng } from '../media/fixtures.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * Inbound media with several processes on one PostgreSQL (issue 14, point 2): the file one process
 * received is served by another, which has a DATA_DIR of its own and no shared disk — the bytes are
 * in the database. (SQLite is one process by design; its files under DATA_DIR are tested in
 * test/http/inbound.test.ts.)
 */
for (const dialect of testDialects().filter((d) => d === 'postgres')) {
  describe(`inbound media across two processes (${dialect})`, () => {
    let database: TestDatabase;
    const servers: ServerProcess[] = [];
    const otherDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'messageapi-second-'));

    beforeAll(async () => {
      if (!fs.existsSync(path.join(ROOT, 'dist/cli/main.js'))) throw new Error('Build first: npm run build');
      database = await createTestDatabase(dialect);
    });
    afterAll(async () => {
      for (const server of servers) await server.kill('SIGTERM');
      await database.drop();
      fs.rmSync(otherDataDir, { recursive: true, force: true });
    });

    it('serves, by key and by signed link, a file that the other process received', async () => {
      const env = { WHATSAPP_DRIVER: 'sandbox', DATABASE_URL: database.url, MESSAGEAPI_SECRET: 'two-processes-secret-two-processes', LOG_LEVEL: 'info' };
      const first = await startServerProcess({ ...env, DATA_DIR: database.dataDir });
      servers.push(first);
      const second = await startServerProcess({ ...env, DATA_DIR: otherDataDir });
      servers.push(second);
      const store = Store.open(database.url);
      const { apiKey } = await createAccount(store, { email: 'two@example.com', plan: 'unlimited' }, Date.now());
      await store.close();
      const headers = { 'x-api-key': apiKey, 'content-type': 'application/json' };
      const png = tinyPng();

      const arrived = await fetch(`${first.url}/api/v1/sandbox/incoming`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ from: '12125559876', type: 'image', media: `data:image/png;base64,${png.toString('base64')}` }),
      });
      expect(arrived.status).toBe(200);
      const { messageId } = (await arrived.json()) as { messageId: string };
      // The second process lists it and serves its bytes.
      const view = (await (await fetch(`${second.url}/api/v1/messages/${messageId}`, { headers })).json()) as { content: { media: { id: string } } };
      const mediaId = view.content.media.id;
      const byKey = await fetch(`${second.url}/api/v1/media/${mediaId}`, { headers: { 'x-api-key': apiKey } });
      expect(byKey.status).toBe(200);
      expect(sha(Buffer.from(await byKey.arrayBuffer()))).toBe(sha(png));
      // The event's signed link (from the event log) works on the other process, without a key.
      const events = (await (await fetch(`${first.url}/api/v1/events?after=0&limit=10`, { headers })).json()) as { events: Array<{ event: string; payload?: unknown; data?: unknown }> };
      const body = JSON.stringify(events);
      const link = /\/media\/med_\w+\?expires=\d+&sig=[0-9a-f]{64}/.exec(body)?.[0];
      expect(link, body).toBeDefined();
      const bySignature = await fetch(`${second.url}${link}`);
      expect(bySignature.status).toBe(200);
      expect(sha(Buffer.from(await bySignature.arrayBuffer()))).toBe(sha(png));
      // Nothing was written under either process's DATA_DIR for it.
      expect(fs.existsSync(path.join(database.dataDir, 'media'))).toBe(false);
      expect(fs.existsSync(path.join(otherDataDir, 'media'))).toBe(false);
    }, 120_000);
  });
}
