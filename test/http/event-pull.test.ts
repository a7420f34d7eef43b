import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { pruneExpired } from '../../src/core/housekeeping.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

interface Pulled {
  success: true;
  events: Array<{ cursor: number; id: string; event: string; body: string }>;
  cursor: number;
}

for (const dialect of testDialects()) {
  describe(`the pull queue GET /api/v1/events (${dialect})`, () => {
    let t: TestApp;

    beforeAll(async () => {
      t = await startTestApp(dialect);
    });
    afterAll(() => t.close());

    const incoming = (key: string, text: string) =>
      t.inject({ method: 'POST', url: '/api/v1/sandbox/incoming', headers: { 'x-api-key': key }, payload: { from: '12125559876', text } });
    const pull = async (key: string, query: string): Promise<Pulled> => {
      const res = await t.inject({ method: 'GET', url: `/api/v1/events?${query}`, headers: { 'x-api-key': key } });
      expect(res.statusCode, res.body).toBe(200);
      return res.json() as Pulled;
    };
    const texts = (p: Pulled) => p.events.map((e) => (JSON.parse(e.body) as { message: { text: string } }).message.text);

    it('gives every event once, in order, with the webhook body, to an account without a webhook URL', async () => {
      const { apiKey } = await t.createAccount('unlimited');
      for (let i = 0; i < 5; i++) expect((await incoming(apiKey, `m${i}`)).statusCode).toBe(200);
      const first = await pull(apiKey, 'limit=3');
      expect(first.events.map((e) => e.cursor)).toEqual([1, 2, 3]);
      expect(texts(first)).toEqual(['m0', 'm1', 'm2']);
      expect(JSON.parse(first.events[0]!.body)).toMatchObject({ event: 'message.received', timestamp: expect.any(String), message: { from: '12125559876' } });
      expect(first.events[0]!.id).toMatch(/^evt_/);
      const second = await pull(apiKey, `after=${first.cursor}&limit=3`);
      expect(texts(second)).toEqual(['m3', 'm4']);
      expect((await pull(apiKey, `after=${second.cursor}`)).events).toEqual([]);
    });

    it('resumes a consumer killed mid-burst at its last acknowledged cursor: no gap, no duplicate', async () => {
      const { apiKey } = await t.createAccount('unlimited');
      const burst = Promise.all(Array.from({ length: 20 }, (_, i) => incoming(apiKey, `b${i}`)));
      const seen: string[] = [];
      // The first consumer handles two small pages while the burst is still arriving, acknowledges them, and dies.
      let page = await pull(apiKey, 'limit=4&wait=2000');
      seen.push(...texts(page));
      page = await pull(apiKey, `after=${page.cursor}&limit=4&wait=2000`);
      seen.push(...texts(page));
      await t.inject({ method: 'POST', url: '/api/v1/events/ack', headers: { 'x-api-key': apiKey }, payload: { cursor: page.cursor } });
      await burst;
      // The restarted consumer knows no cursor: it resumes from the acknowledged one.
      let cursor: number | undefined;
      for (let i = 0; i < 20 && seen.length < 20; i++) {
        page = await pull(apiKey, cursor === undefined ? 'limit=5' : `after=${cursor}&limit=5`);
        seen.push(...texts(page));
        cursor = page.cursor;
      }
      expect(seen.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `b${i}`).sort());
    });

    it('wakes a long-poll when an event arrives instead of waiting out `wait`', async () => {
      const { apiKey } = await t.createAccount('unlimited');
      const started = performance.now();
      const waiting = pull(apiKey, 'wait=20000');
      await incoming(apiKey, 'wake up');
      const answer = await waiting;
      expect(texts(answer)).toEqual(['wake up']);
      // Well under the 1 s re-read: the wake, not the interval, answered it.
      expect(performance.now() - started).toBeLessThan(900);
    });

    it('answers an empty page with the same cursor when wait runs out', async () => {
      const { apiKey } = await t.createAccount('unlimited');
      expect(await pull(apiKey, 'after=0&wait=50')).toEqual({ success: true, events: [], cursor: 0 });
    });

    it('two consumers racing for the same cursor get the same events, and the acknowledged cursor never moves back', async () => {
      const { apiKey } = await t.createAccount('unlimited');
      for (let i = 0; i < 6; i++) await incoming(apiKey, `r${i}`);
      const [a, b] = await Promise.all([pull(apiKey, 'after=2&limit=10'), pull(apiKey, 'after=2&limit=10')]);
      expect(texts(a)).toEqual(['r2', 'r3', 'r4', 'r5']);
      expect(texts(b)).toEqual(texts(a));
      const acks = await Promise.all(
        [5, 3, 6, 4].map((cursor) => t.inject({ method: 'POST', url: '/api/v1/events/ack', headers: { 'x-api-key': apiKey }, payload: { cursor } })),
      );
      expect(acks.map((r) => r.statusCode)).toEqual([200, 200, 200, 200]);
      expect((await pull(apiKey, 'limit=10')).events).toEqual([]);
      // A late consumer acknowledging an older cursor does not bring events back for the others.
      await pull(apiKey, 'after=1');
      expect((await pull(apiKey, 'limit=10')).events).toEqual([]);
    });

    it('follows the webhooks plan rule: Trial gets 403 plan_restriction and no log', async () => {
      const { apiKey, id } = await t.createAccount('trial');
      await incoming(apiKey, 'not logged');
      const res = await t.inject({ method: 'GET', url: '/api/v1/events', headers: { 'x-api-key': apiKey } });
      expect(res.statusCode).toBe(403);
      expect(res.json()).toMatchObject({ success: false, code: 'plan_restriction' });
      expect(await t.runtime.store.db.selectFrom('event_log').select('seq').where('account_id', '=', id).execute()).toEqual([]);
    });

    it('prunes events older than EVENT_RETENTION_DAYS, and later events keep counting on', async () => {
      const { apiKey } = await t.createAccount('unlimited');
      await incoming(apiKey, 'old');
      const retention = t.runtime.config.webhooks.retentionDays;
      await pruneExpired(t.runtime.store, Date.now() + (retention - 1) * 86_400_000, retention);
      expect(texts(await pull(apiKey, 'after=0'))).toEqual(['old']);
      await pruneExpired(t.runtime.store, Date.now() + (retention + 1) * 86_400_000, retention);
      expect((await pull(apiKey, 'after=0')).events).toEqual([]);
      await incoming(apiKey, 'new');
      expect((await pull(apiKey, 'after=0')).events.map((e) => e.cursor)).toEqual([2]);
    });

    it('validates its input', async () => {
      const { apiKey } = await t.createAccount('unlimited');
      const res = await t.inject({ method: 'GET', url: '/api/v1/events?wait=99999999', headers: { 'x-api-key': apiKey } });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'invalid_parameter' });
    });
  });
}
