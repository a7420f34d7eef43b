import { afterAll, describe, expect, it } from 'vitest';
import { CrashRig } from '../helpers/crash-rig.js';
import { createStoredAccounts, testDialects } from '../helpers/databases.js';

const COUNT = 20;

for (const dialect of testDialects()) {
  describe(`scheduled sends across a crash (${dialect})`, () => {
    const rig = new CrashRig(dialect);
    afterAll(() => rig.close());

    it('messages scheduled before a SIGKILL are sent once each after the restart, not before their time', { timeout: 90_000 }, async () => {
      const env = await rig.create();
      const [{ apiKey }] = await createStoredAccounts(env.DATABASE_URL, ['later@example.com']);
      const first = await rig.start(env);
      const base = Date.now() + 8_000;
      const scheduled: Array<{ id: string; sendAt: number }> = [];
      for (let i = 0; i < COUNT; i++) {
        const sendAt = base + (i % 4) * 500;
        const res = await fetch(`${first.url}/api/v1/send`, {
          method: 'POST',
          headers: { 'x-api-key': apiKey, 'content-type': 'application/json' },
          body: JSON.stringify({ recipient: `4479${String(200_000 + i)}2`, text: `later ${i}`, sendAt: new Date(sendAt).toISOString(), wait: 0 }),
        });
        const body = (await res.json()) as { messageId: string; status: string };
        expect(body.status).toBe('scheduled');
        scheduled.push({ id: body.messageId, sendAt });
      }
      expect(Date.now()).toBeLessThan(base); // all accepted (and answered, so on disk) before the first was due
      await first.kill('SIGKILL');

      const peek = rig.open();
      expect(await peek.db.selectFrom('sandbox_sends').select('message_id').execute()).toEqual([]);
      await rig.start(env);
      const ids = scheduled.map((s) => s.id);
      const sentCount = async () => (await peek.db.selectFrom('messages').select('id').where('id', 'in', ids).where('status', '=', 'sent').execute()).length;
      await expect.poll(sentCount, { timeout: 30_000, interval: 200 }).toBe(COUNT);
      const network = await peek.db.selectFrom('sandbox_sends').select(['message_id', 'at']).where('message_id', 'in', ids).execute();
      expect(network).toHaveLength(COUNT); // once each
      for (const s of scheduled) {
        const record = network.find((r) => r.message_id === s.id)!;
        expect(Number(record.at)).toBeGreaterThanOrEqual(s.sendAt);
      }
    });
  });
}
