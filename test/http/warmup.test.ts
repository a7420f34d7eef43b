import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

for (const dialect of testDialects()) {
  describe(`the warm-up guard (${dialect})`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp(dialect, { env: { WARMUP_NEW_CHATS_PER_DAY: '5' } });
    });
    afterAll(() => t.close());

    it('lets a session open exactly 5 new chats a day under 40 concurrent sends; existing chats still flow', { timeout: 60_000 }, async () => {
      const { apiKey } = await t.createAccount('unlimited');
      const headers = { 'x-api-key': apiKey };
      const answers = await Promise.all(
        Array.from({ length: 40 }, (_, i) => t.inject({ method: 'POST', url: '/api/v1/send', headers, payload: { to: `4479${String(500_000 + i)}2`, text: `hello ${i}`, wait: 0 } })),
      );
      const ok = answers.filter((a) => a.statusCode === 200);
      const refused = answers.filter((a) => a.statusCode === 429);
      expect(ok).toHaveLength(5);
      expect(refused).toHaveLength(35);
      for (const r of refused) {
        expect(r.json()).toMatchObject({ success: false, code: 'new_chat_limit_reached' });
        expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
      }
      // A number it already chats with is not a new chat.
      const known = ok[0]!.json().messageId as string;
      const recipient = (await t.inject({ method: 'GET', url: `/api/v1/messages/${known}`, headers })).json().recipient as string;
      const again = await t.inject({ method: 'POST', url: '/api/v1/send', headers, payload: { to: recipient, text: 'again', wait: 0 } });
      expect(again.statusCode).toBe(200);
      expect(await t.runtime.store.db.selectFrom('warmup_new_chats').select('recipient').execute()).toHaveLength(5);
    });
  });

  describe(`the warm-up guard is off by default (${dialect})`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp(dialect);
    });
    afterAll(() => t.close());

    it('opens any number of new chats', async () => {
      const { apiKey } = await t.createAccount('unlimited');
      const answers = await Promise.all(
        Array.from({ length: 12 }, (_, i) => t.inject({ method: 'POST', url: '/api/v1/send', headers: { 'x-api-key': apiKey }, payload: { to: `4479${String(600_000 + i)}2`, text: 'x', wait: 0 } })),
      );
      expect(answers.map((a) => a.statusCode)).toEqual(Array(12).fill(200));
    });
  });
}
