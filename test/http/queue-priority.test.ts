import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

for (const dialect of testDialects()) {
  describe(`priorities under a backlog (${dialect})`, () => {
    let t: TestApp;
    let key: string;
    let now = Date.now();

    beforeAll(async () => {
      t = await startTestApp(dialect, { clock: () => now });
      key = (await t.createAccount('unlimited')).apiKey;
    });
    afterAll(() => t.close());

    it('high goes first, then normal, then low, each in acceptance order', { timeout: 60_000 }, async () => {
      const sendAt = new Date(now + 60_000).toISOString();
      // A backlog that becomes due at once: a campaign of low and normal messages with one-time codes among them.
      const plan: Array<'high' | 'normal' | 'low' | undefined> = [];
      for (let i = 0; i < 30; i++) plan.push(i % 3 === 0 ? 'low' : i % 7 === 0 ? 'high' : i % 2 === 0 ? undefined : 'normal');
      const accepted: Array<{ id: string; priority: string }> = [];
      for (const [i, priority] of plan.entries()) {
        const res = await t.inject({ method: 'POST', url: '/api/v1/send', headers: { 'x-api-key': key }, payload: { to: '12125551234', text: `m${i}`, sendAt, ...(priority ? { priority } : {}) } });
        expect(res.json().status).toBe('scheduled');
        accepted.push({ id: res.json().messageId, priority: priority ?? 'normal' });
      }
      expect((await t.inject({ method: 'GET', url: `/api/v1/messages/${accepted[0]!.id}`, headers: { 'x-api-key': key } })).json().priority).toBe('low');
      now += 60_000;
      t.runtime.dispatcher.kick();
      const network = async () => (await t.runtime.store.db.selectFrom('sandbox_sends').select('message_id').orderBy('seq').execute()).map((r) => r.message_id);
      await expect.poll(async () => (await network()).length, { timeout: 20_000 }).toBe(accepted.length);
      const expected = ['high', 'normal', 'low'].flatMap((p) => accepted.filter((a) => a.priority === p).map((a) => a.id));
      expect(await network()).toEqual(expected);
    });

    it('refuses an unknown priority with a 400 naming it', async () => {
      const res = await t.inject({ method: 'POST', url: '/api/v1/send', headers: { 'x-api-key': key }, payload: { to: '12125551234', text: 'x', priority: 'urgent' } });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ success: false, code: 'invalid_parameter' });
      expect(res.json().error).toMatch(/priority/);
    });
  });
}
