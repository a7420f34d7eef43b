import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, testDialects, type TestDatabase } from '../helpers/databases.js';
import { createAccount } from '../../src/core/accounts.js';
import { Store } from '../../src/store/store.js';
import { ROOT, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { TestReceiver } from './receiver.js';

// The built server (npm test builds first), killed with SIGKILL while a receiver holds a delivery open.
for (const dialect of testDialects()) {
  describe(`webhook delivery across a crash (${dialect})`, () => {
    let database: TestDatabase;
    let receiver: TestReceiver;
    const servers: ServerProcess[] = [];
    let env: Record<string, string>;

    beforeAll(async () => {
      if (!fs.existsSync(path.join(ROOT, 'dist/cli/main.js'))) throw new Error('Build first: npm run build');
      database = await createTestDatabase(dialect);
      receiver = await TestReceiver.start();
      env = {
        WHATSAPP_DRIVER: 'sandbox',
        DATA_DIR: database.dataDir,
        DATABASE_URL: database.url,
        MESSAGEAPI_SECRET: 'crash-test-secret-crash-test-secret',
        ALLOW_PRIVATE_URLS: 'true',
        LOG_LEVEL: 'info',
        // A dead process's claims expire quickly, so the next process takes its jobs over soon.
        OUTBOX_LOCK_MS: '2000',
        WEBHOOK_TIMEOUT_MS: '10000',
      };
    });
    afterAll(async () => {
      for (const server of servers) await server.kill('SIGKILL');
      await receiver.close();
      await database.drop();
    });

    // Two server starts: on a loaded machine each can take 20 s, so the test has room and its waits are deadlines.
    it('retries after a restart an attempt that SIGKILL cut off, with the same webhook-id and body', { timeout: 180_000 }, async () => {
      const first = await startServerProcess(env);
      servers.push(first);
      // No SMTP_URL: the server says once that mail is off.
      expect(first.output().match(/disconnect e-mails are off/g)).toHaveLength(1);
      const store = Store.open(database.url);
      const { apiKey } = await createAccount(store, { email: `crash-${dialect}@example.com`, plan: 'unlimited' }, Date.now());
      await store.close();
      const headers = { 'x-api-key': apiKey, 'content-type': 'application/json' };
      const set = await fetch(`${first.url}/api/v1/settings`, { method: 'PATCH', headers, body: JSON.stringify({ webhookUrl: receiver.url }) });
      receiver.secret = ((await set.json()) as { webhookSecret: string }).webhookSecret;

      // The receiver takes the first request and never answers it.
      receiver.answer = (_r, n) => (n === 1 ? { status: 200, hang: true } : { status: 200 });
      const incoming = await fetch(`${first.url}/api/v1/sandbox/incoming`, { method: 'POST', headers, body: JSON.stringify({ from: '12125559876', text: 'survive this' }) });
      expect(incoming.status).toBe(200);
      await expect.poll(() => receiver.received.length, { timeout: 30_000 }).toBeGreaterThan(0);
      expect(receiver.received).toHaveLength(1);

      await first.kill('SIGKILL');
      const second = await startServerProcess(env);
      servers.push(second);
      await expect.poll(() => receiver.received.length, { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
      const [cut, retried] = receiver.received;
      expect(cut!.verified && retried!.verified).toBe(true);
      expect(retried!.id).toBe(cut!.id);
      expect(retried!.body).toBe(cut!.body);
      expect(JSON.parse(retried!.body)).toMatchObject({ event: 'message.received', message: { text: 'survive this' } });

      const deliveries = async () => ((await (await fetch(`${second.url}/api/v1/webhooks/deliveries`, { headers })).json()) as { deliveries: any[] }).deliveries;
      await expect.poll(async () => (await deliveries())[0]?.status, { timeout: 30_000 }).toBe('delivered');
      const log = await deliveries();
      expect(log).toHaveLength(1);
      expect(log[0]).toMatchObject({ status: 'delivered', lastStatus: 200, eventId: cut!.id });
      expect(await second.kill('SIGTERM')).toBe(0);
    });
  });
}
