import { Agent, request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, testDialects, type TestDatabase } from '../helpers/databases.js';
import { runCli, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { Store } from '../../src/store/store.js';

const BURST = 2000;
const CONCURRENCY = 50;

for (const dialect of testDialects()) {
  describe(`crash safety (${dialect})`, () => {
    let database: TestDatabase;
    const servers: ServerProcess[] = [];
    afterAll(async () => {
      for (const s of servers) await s.kill('SIGKILL');
      await database?.drop();
    });

    it(`SIGKILL in the middle of a burst of ${BURST} sends: every accepted message ends sent exactly once`, { timeout: 120_000 }, async () => {
      database = await createTestDatabase(dialect);
      const env = { DATA_DIR: database.dataDir, DATABASE_URL: database.url, WHATSAPP_DRIVER: 'sandbox', OUTBOX_LOCK_MS: '1500', LOG_LEVEL: 'info' };
      const created = runCli(['accounts', 'create', '--email', 'crash@example.com', '--plan', 'unlimited', '--json'], env);
      expect(created.code, created.stderr).toBe(0);
      const { apiKey } = JSON.parse(created.stdout);

      const first = await startServerProcess(env);
      servers.push(first);
      // One send with the key in the query, so the log check below covers the redaction of URLs.
      const viaQuery = await request(`${first.url}/send.php?recipient=12125551234&apikey=${apiKey}&text=first`);
      expect(viaQuery.statusCode).toBe(200);
      const firstId = ((await viaQuery.body.json()) as { messageId: string }).messageId;

      const accepted = new Set<string>([firstId]);
      const dispatcher = new Agent({ connections: CONCURRENCY, pipelining: 1 });
      let next = 0;
      let killed = false;
      const worker = async () => {
        while (next < BURST) {
          const i = next++;
          if (i === Math.floor(BURST * 0.6) && !killed) {
            killed = true;
            first.child.kill('SIGKILL');
          }
          try {
            const res = await request(`${first.url}/api/v1/send`, {
              method: 'POST',
              dispatcher,
              headers: { 'x-api-key': apiKey, 'content-type': 'application/json' },
              body: JSON.stringify({ recipient: `4479${String(100_000 + i)}2`, text: `burst ${i}`, wait: 0 }), // never a magic number (…0000, …0001)
            });
            const body = (await res.body.json()) as { success: boolean; messageId?: string };
            if (res.statusCode === 200 && body.success && body.messageId) accepted.add(body.messageId);
          } catch {
            // The server died under this request: it was never accepted.
          }
        }
      };
      const burstStarted = Date.now();
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      console.log(`burst: ${accepted.size} accepted in ${Date.now() - burstStarted} ms`);
      await dispatcher.close();
      await first.kill('SIGKILL');
      expect(accepted.size).toBeGreaterThan(BURST * 0.5);

      const store = Store.open(database.url);
      try {
        const pendingAtCrash = await store.db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'pending').executeTakeFirstOrThrow();

        const restartAt = Date.now();
        const second = await startServerProcess(env);
        servers.push(second);
        const deadline = Date.now() + 60_000;
        for (;;) {
          const left = await store.db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'pending').executeTakeFirstOrThrow();
          if (Number(left.n) === 0) break;
          if (Date.now() > deadline) throw new Error(`${left.n} messages still pending a minute after restart`);
          await new Promise((r) => setTimeout(r, 100));
        }

        console.log(`restart: ${pendingAtCrash.n} pending at the crash, all settled ${Date.now() - restartAt} ms after restart`);
        const rows = await store.db.selectFrom('messages').select(['id', 'status']).execute();
        const status = new Map(rows.map((r) => [r.id, r.status]));
        for (const id of accepted) expect(status.get(id), `accepted message ${id}`).toBe('sent');

        const sends = await store.db.selectFrom('sandbox_sends').select(['message_id', 'wa_message_id']).execute();
        const perMessage = new Map<string, number>();
        for (const s of sends) perMessage.set(s.message_id, (perMessage.get(s.message_id) ?? 0) + 1);
        const duplicates = [...perMessage].filter(([, n]) => n > 1);
        expect(duplicates).toEqual([]);
        for (const id of accepted) expect(perMessage.get(id), `network record of ${id}`).toBe(1);
        // Messages that were committed but whose answer was lost in the crash are sent too (nothing stays pending).
        expect(sends.length).toBe(rows.length);

        // The public surface agrees: the sandbox's record lists every accepted message once.
        const listed: string[] = [];
        let cursor: string | null = null;
        do {
          const page: any = await (await fetch(`${second.url}/api/v1/sandbox/sends?limit=1000${cursor ? `&cursor=${cursor}` : ''}`, { headers: { 'x-api-key': apiKey } })).json();
          listed.push(...page.sends.map((s: { messageId: string }) => s.messageId));
          cursor = page.nextCursor;
        } while (cursor);
        expect(new Set(listed).size).toBe(listed.length);
        for (const id of accepted) expect(listed).toContain(id);
        expect(Number(pendingAtCrash.n)).toBeGreaterThanOrEqual(0);

        await second.kill('SIGTERM');
        const logs = first.output() + second.output();
        expect(logs).toContain('/send.php?recipient=12125551234&apikey=[REDACTED]');
        expect(logs).not.toContain(apiKey);
        expect(logs).not.toContain(apiKey.slice(4, 20));
      } finally {
        await store.close();
      }
    });
  });
}
