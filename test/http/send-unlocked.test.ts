import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { testDialects } from '../helpers/databases.js';

/**
 * A send that needs no lock on its account (no daily limit, recipient list, warm-up or idempotency
 * key) is one statement on PostgreSQL (core/accept-in-one-statement.ts) and a group-committed write
 * on SQLite: both must log the same thing — counted, queued, sent once, scheduled ones held.
 */
for (const dialect of testDialects()) {
  describe(`sends without an account lock (${dialect})`, () => {
    let t: TestApp;
    let key: string;
    beforeAll(async () => {
      t = await startTestApp(dialect);
      key = (await t.createAccount('unlimited')).apiKey;
    });
    afterAll(() => t.close());

    const headers = () => ({ 'x-api-key': key });
    const get = async (id: string) => (await t.inject({ method: 'GET', url: `/api/v1/messages/${id}`, headers: headers() })).json();
    const sandboxSends = async () => (await t.inject({ method: 'GET', url: '/api/v1/sandbox/sends?limit=1000', headers: headers() })).json().sends as Array<{ messageId: string }>;

    it('logs, counts and queues each of 40 concurrent sends once; scheduled ones wait', { timeout: 60_000 }, async () => {
      const sendAt = new Date(Date.now() + 3_600_000).toISOString();
      const answers = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          t.inject({ method: 'POST', url: '/api/v1/send', headers: headers(), payload: { to: '12125551234', text: `n${i}`, wait: 0, ...(i % 10 === 0 ? { sendAt } : {}) } }),
        ),
      );
      expect(answers.map((a) => a.statusCode)).toEqual(Array(40).fill(200));
      const ids = answers.map((a) => a.json().messageId as string);
      expect(new Set(ids).size).toBe(40);
      expect(answers.filter((a) => a.json().status === 'scheduled')).toHaveLength(4);
      expect((await t.inject({ method: 'GET', url: '/api/v1/status', headers: headers() })).json().messagesToday).toBe(40);
      const now = ids.filter((_, i) => i % 10 !== 0);
      await expect.poll(async () => (await sandboxSends()).length, { timeout: 30_000 }).toBe(36);
      expect(new Set((await sandboxSends()).map((s) => s.messageId))).toEqual(new Set(now));
      // The sandbox hears a send before the worker writes its outcome, so each status is awaited.
      for (const id of now) await expect.poll(async () => (await get(id)).status, { timeout: 10_000 }).toBe('sent');
      for (const id of now) expect(await get(id)).toMatchObject({ status: 'sent', type: 'text' });
      for (const id of ids.filter((_, i) => i % 10 === 0)) expect(await get(id)).toMatchObject({ status: 'scheduled', sendAt, sentAt: null });
    });
  });
}
