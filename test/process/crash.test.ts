import { Agent, request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { CrashRig, listedSandboxSends, untilNonePending } from '../helpers/crash-rig.js';
import { createStoredAccounts, testDialects } from '../helpers/databases.js';

const BURST = 2000;
const CONCURRENCY = 50;
/** The first process hangs in the send that puts this many messages on the sandbox's network. */
const HANG_AT = 50;
const ACCOUNTS = 4;

for (const dialect of testDialects()) {
  describe(`crash safety (${dialect})`, () => {
    const rig = new CrashRig(dialect);
    afterAll(() => rig.close());

    it(`SIGKILL in the middle of a burst of ${BURST} sends: every accepted message ends sent; what the crash caught between the network and the outcome goes out once more, under its first WhatsApp id`, { timeout: 120_000 }, async () => {
      const env = await rig.create();
      // Several accounts, so their lanes send side by side (each send is a commit of the sandbox's network).
      const accounts = await createStoredAccounts(env.DATABASE_URL, Array.from({ length: ACCOUNTS }, (_, n) => `crash${n}@example.com`));
      const apiKeys = accounts.map((a) => a.apiKey);
      const apiKey = apiKeys[0]!;

      const peek = rig.open();
      const first = await rig.start({ ...env, SANDBOX_HANG_AFTER_SENDS: String(HANG_AT) });
      // One send with the key in the query, so the log check below covers the redaction of URLs.
      const viaQuery = await request(`${first.url}/send.php?recipient=12125551234&apikey=${apiKey}&text=first`);
      expect(viaQuery.statusCode).toBe(200);
      const firstId = ((await viaQuery.body.json()) as { messageId: string }).messageId;

      const accepted = new Set<string>([firstId]);
      const dispatcher = new Agent({ connections: CONCURRENCY, pipelining: 1 });
      const networkSends = async () => Number((await peek.db.selectFrom('sandbox_sends').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
      // Killed once the burst is well under way and the sandbox hangs right after putting a message on
      // its network (SANDBOX_HANG_AFTER_SENDS): inside the window between the network and the outcome's commit.
      let killing: Promise<void> | undefined;
      const killInTheWindow = async () => {
        const deadline = Date.now() + 30_000;
        while ((await networkSends()) < HANG_AT) {
          if (Date.now() > deadline) throw new Error(`the sandbox never reached ${HANG_AT} sends`);
          await new Promise((r) => setTimeout(r, 5));
        }
        first.child.kill('SIGKILL');
        console.log(`killed ${Date.now() - burstStarted} ms into the burst, ${accepted.size} accepted by then`);
      };
      let next = 0;
      const burstStarted = Date.now();
      const worker = async () => {
        while (next < BURST) {
          const i = next++;
          if (i === Math.floor(BURST * 0.6)) killing = killInTheWindow();
          try {
            const res = await request(`${first.url}/api/v1/send`, {
              method: 'POST',
              dispatcher,
              headers: { 'x-api-key': apiKeys[i % ACCOUNTS]!, 'content-type': 'application/json' },
              body: JSON.stringify({ recipient: `4479${String(100_000 + i)}2`, text: `burst ${i}`, wait: 0 }), // never a magic number (…0000, …0001)
            });
            const body = (await res.body.json()) as { success: boolean; messageId?: string };
            if (res.statusCode === 200 && body.success && body.messageId) accepted.add(body.messageId);
          } catch {
            // The server died under this request: it was never accepted.
          }
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      await killing;
      console.log(`burst: ${accepted.size} accepted in ${Date.now() - burstStarted} ms`);
      await dispatcher.close();
      await first.kill('SIGKILL');
      expect(accepted.size).toBeGreaterThan(BURST * 0.5);

      const store = rig.open();
      const pendingAtCrash = await store.db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'pending').executeTakeFirstOrThrow();
      // In the window: on the network, but the outcome never committed (at least the send the sandbox hung in).
      const inTheWindow = new Set(
        (await store.db.selectFrom('sandbox_sends').innerJoin('messages', 'messages.id', 'sandbox_sends.message_id').select('message_id').where('messages.status', '=', 'pending').execute()).map((r) => r.message_id),
      );
      expect(inTheWindow.size, 'messages on the network whose outcome the crash lost').toBeGreaterThan(0);

      const restartAt = Date.now();
      const second = await rig.start(env);
      await untilNonePending(store);

      console.log(`restart: ${pendingAtCrash.n} pending at the crash, all settled ${Date.now() - restartAt} ms after restart`);
      const rows = await store.db.selectFrom('messages').select(['id', 'status', 'wa_message_id']).execute();
      const status = new Map(rows.map((r) => [r.id, r.status]));
      for (const id of accepted) expect(status.get(id), `accepted message ${id}`).toBe('sent');

      // The sandbox's network is written in its own commit before the outcome (as a real network has a
      // message before the gateway records it), so what was on the network when the process died
      // goes out again after the restart: under the WhatsApp id fixed at acceptance, which the
      // recipient's app uses to drop the copy.
      const sends = await store.db.selectFrom('sandbox_sends').select(['seq', 'message_id', 'wa_message_id']).orderBy('seq').execute();
      const waIds = new Map(rows.map((r) => [r.id, r.wa_message_id]));
      const copies = new Map<string, string[]>();
      for (const s of sends) copies.set(s.message_id, [...(copies.get(s.message_id) ?? []), s.wa_message_id]);
      const resent = [...copies].filter(([, ids]) => ids.length > 1);
      console.log(`network: ${sends.length} sends of ${copies.size} messages; ${inTheWindow.size} on the network but not recorded sent at the crash; ${resent.length} sent again after the restart (each under its first WhatsApp id)`);
      for (const [id, ids] of copies) expect(new Set(ids), `WhatsApp ids ${id} went out under`).toEqual(new Set([waIds.get(id)]));
      // Exactly those went out twice: the crash is the only way to a second copy, and the restart
      // sends what it finds pending without knowing the network already has it.
      expect(resent.map(([id]) => id).sort()).toEqual([...inTheWindow].sort());
      for (const [id, ids] of resent) expect(ids, `copies of ${id}`).toHaveLength(2);
      for (const id of accepted) expect(copies.get(id)?.length ?? 0, `network record of ${id}`).toBeGreaterThanOrEqual(1);
      // Messages that were committed but whose answer was lost in the crash are sent too (nothing stays pending).
      expect(copies.size).toBe(rows.length);

      // The public surface agrees: the sandbox's record lists every send, the copies included.
      const listed: string[] = [];
      for (const key of apiKeys) listed.push(...(await listedSandboxSends(second.url, key)));
      expect(listed.sort()).toEqual(sends.map((s) => s.message_id).sort());
      for (const id of accepted) expect(listed).toContain(id);

      await second.kill('SIGTERM');
      const logs = first.output() + second.output();
      expect(logs).toContain('/send.php?recipient=12125551234&apikey=[REDACTED]');
      for (const key of apiKeys) {
        expect(logs).not.toContain(key);
        expect(logs).not.toContain(key.slice(4, 20));
      }
    });
  });
}
