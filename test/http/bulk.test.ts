import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

type Result = { messageId: string; status: string } | { error: string; code: string };

for (const dialect of testDialects()) {
  describe(`bulk sends (${dialect})`, () => {
    let t: TestApp;
    let now = Date.now();

    beforeAll(async () => {
      t = await startTestApp(dialect, { clock: () => now, env: { PLAN_TRIAL_DAILY_LIMIT: '300', PLAN_PERSONAL_MAX_RECIPIENTS: '5' } });
    });
    afterAll(() => t.close());

    const bulk = (key: string, payload: Record<string, unknown>, extra: Record<string, string> = {}) =>
      t.inject({ method: 'POST', url: '/api/v1/send/bulk', headers: { 'x-api-key': key, ...extra }, payload });
    const usedToday = async (key: string) => (await t.inject({ method: 'GET', url: '/api/v1/status', headers: { 'x-api-key': key } })).json().messagesToday as number;

    it('1,000 mixed items on a 300-a-day plan: bad items refused each with its code, the good ones accepted in item order up to the limit exactly, the rest daily_limit_reached', { timeout: 120_000 }, async () => {
      const { apiKey } = await t.createAccount('trial');
      await t.inject({ method: 'POST', url: '/api/v1/send', headers: { 'x-api-key': apiKey }, payload: { to: '12125551234', text: 'one before' } });
      const expectedBad = new Map<number, string>();
      const messages = Array.from({ length: 1000 }, (_, i) => {
        const to = `4479${String(300_000 + i)}2`;
        if (i % 10 === 3) return expectedBad.set(i, 'invalid_recipient') && { to: '123', text: 'x' };
        if (i % 10 === 5) return expectedBad.set(i, 'missing_parameter') && { type: 'text', to };
        if (i % 50 === 7) return expectedBad.set(i, 'invalid_url') && { type: 'image', to, file: 'ftp://example.com/a.jpg' };
        if (i % 50 === 9) return expectedBad.set(i, 'plan_restriction') && { to: '120363000000000001@g.us', text: 'group' };
        if (i % 50 === 11) return expectedBad.set(i, 'invalid_parameter') && { type: 'poll', to, question: 'Q', options: ['same', 'same'] };
        if (i % 50 === 13) return expectedBad.set(i, 'invalid_parameter') && { type: 'hologram', to };
        if (i % 4 === 0) return { type: 'location', to, latitude: 51.5, longitude: -0.12, priority: 'low' };
        return { type: 'text', to, text: `item ${i}` };
      });
      const started = performance.now();
      const res = await bulk(apiKey, { messages, label: 'campaign-1' });
      console.log(`bulk of 1,000 mixed items answered in ${Math.round(performance.now() - started)} ms (${dialect})`);
      expect(res.statusCode, res.body).toBe(200);
      const { results, label } = res.json() as { results: Result[]; label: string };
      expect(label).toBe('campaign-1');
      expect(results).toHaveLength(1000);
      let accepted = 0;
      for (const [i, r] of results.entries()) {
        const bad = expectedBad.get(i);
        if (bad) {
          expect(r, `item ${i}`).toMatchObject({ code: bad });
          expect((r as { error: string }).error).toMatch(/\w/);
        } else if (accepted < 299) {
          expect(r, `item ${i}`).toMatchObject({ messageId: expect.any(String), status: 'pending' });
          accepted += 1;
        } else {
          expect(r, `item ${i}`).toMatchObject({ code: 'daily_limit_reached' });
        }
      }
      expect(accepted).toBe(299);
      expect(res.headers['ratelimit-remaining']).toBe('0');
      expect(await usedToday(apiKey)).toBe(300);
      const ids = results.filter((r): r is { messageId: string; status: string } => 'messageId' in r).map((r) => r.messageId);
      // Every accepted item is in the log under the label, and goes out once.
      const listed = (await t.inject({ method: 'GET', url: '/api/v1/messages?label=campaign-1&limit=1000', headers: { 'x-api-key': apiKey } })).json().messages as Array<{ messageId: string; label: string }>;
      expect(listed.map((m) => m.messageId).sort()).toEqual([...ids].sort());
      await expect
        .poll(async () => (await t.runtime.store.db.selectFrom('sandbox_sends').select('message_id').where('message_id', 'in', ids).execute()).length, { timeout: 60_000 })
        .toBe(299);
      // Nothing of the refused items reached the log.
      const logged = await t.runtime.store.db.selectFrom('messages').select('id').where('label', '=', 'campaign-1').execute();
      expect(logged).toHaveLength(299);
    });

    it('Personal: the recipient rule applies per item, in order (a 6th different number is refused, known ones pass)', async () => {
      const { apiKey } = await t.createAccount('personal');
      const numbers = ['4479000011', '4479000012', '4479000013', '4479000014', '4479000015', '4479000016', '4479000011'];
      const res = await bulk(apiKey, { messages: numbers.map((to) => ({ to, text: 'hi' })) });
      const results = res.json().results as Result[];
      expect(results.map((r) => ('code' in r ? r.code : 'ok'))).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'plan_restriction', 'ok']);
    });

    it('an Idempotency-Key covers the whole batch: the same request answers the same results; another body with it is refused', async () => {
      const { apiKey } = await t.createAccount('unlimited');
      const payload = { messages: [{ to: '4479000021', text: 'a' }, { to: 'nope', text: 'b' }, { type: 'contact', to: '4479000022', contacts: [{ name: 'Ann', phones: ['4479000023'] }] }] };
      const first = await bulk(apiKey, payload, { 'idempotency-key': 'batch-1' });
      const again = await bulk(apiKey, payload, { 'idempotency-key': 'batch-1' });
      expect(again.json()).toEqual(first.json());
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(await t.runtime.store.db.selectFrom('messages').select('id').where('label', '=', first.json().label).execute()).toHaveLength(2);
      const other = await bulk(apiKey, { messages: [{ to: '4479000021', text: 'changed' }] }, { 'idempotency-key': 'batch-1' });
      expect(other.statusCode).toBe(422);
      expect(other.json()).toMatchObject({ code: 'idempotency_key_reused' });
    });

    it('a scheduled batch is cancelled together by its label; its quota comes back', async () => {
      const { apiKey } = await t.createAccount('trial');
      const sendAt = new Date(now + 3_600_000).toISOString();
      const res = await bulk(apiKey, { label: 'newsletter', messages: Array.from({ length: 20 }, (_, i) => ({ to: `44790001${String(10 + i)}`, text: `n${i}`, sendAt })) });
      expect((res.json().results as Result[]).every((r) => 'status' in r && r.status === 'scheduled')).toBe(true);
      expect(await usedToday(apiKey)).toBe(20);
      const cancel = await t.inject({ method: 'POST', url: '/api/v1/messages/cancel', headers: { 'x-api-key': apiKey }, payload: { label: 'newsletter' } });
      expect(cancel.json()).toEqual({ success: true, label: 'newsletter', cancelled: 20, inFlight: 0 });
      expect(await usedToday(apiKey)).toBe(0);
      const listed = (await t.inject({ method: 'GET', url: '/api/v1/messages?label=newsletter&status=cancelled', headers: { 'x-api-key': apiKey } })).json().messages;
      expect(listed).toHaveLength(20);
    });

    it('refuses more than 1,000 items and an empty batch as a whole', async () => {
      const { apiKey } = await t.createAccount('unlimited');
      const tooMany = await bulk(apiKey, { messages: Array.from({ length: 1001 }, () => ({ to: '4479000031', text: 'x' })) });
      expect(tooMany.statusCode).toBe(400);
      expect(tooMany.json()).toMatchObject({ code: 'invalid_parameter' });
      const empty = await bulk(apiKey, { messages: [] });
      expect(empty.statusCode).toBe(400);
    });
  });
}
