import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * After an outage the backlog drains at the pacing rate, never in a burst: 200 messages fall due
 * while the session is down, wait (nothing reaches the network), and once it is back they go one
 * by one, each at least the pacer's minimum pause after the one before — measured by the times the
 * sandbox's network recorded them.
 */

const BACKLOG = 200;
const MIN_MS = 25;
const MAX_MS = 35;
// Recipients 44790012100…44790012299: none ends like a sandbox magic number (…0000, …0001, …0463).

/** Timers never fire early, but the recorded times are whole milliseconds. */
const ROUNDING_MS = 2;

for (const dialect of testDialects()) {
  describe(`a backlog after an outage (${dialect})`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp(dialect, { env: { SANDBOX_PACING_MIN_MS: String(MIN_MS), SANDBOX_PACING_MAX_MS: String(MAX_MS) } });
    });
    afterAll(() => t.close());

    it(`drains at the pacing rate once the session is back: ${BACKLOG} held messages, spaced by at least the pacer's pause, none before the reconnect`, async () => {
      const { id, apiKey } = await t.createAccount('unlimited');
      const headers = { 'x-api-key': apiKey };
      const down = await t.inject({ method: 'POST', url: '/api/v1/sandbox/disconnect', headers, payload: { reason: 'connection_lost' } });
      expect(down.statusCode).toBe(200);
      // Accepted while the session is down (a scheduled send may be), due a moment later.
      const sendAt = new Date(Date.now() + 500).toISOString();
      const messages = Array.from({ length: BACKLOG }, (_, i) => ({ to: `44790012${String(100 + i)}`, text: `backlog ${i}`, sendAt }));
      const bulk = await t.inject({ method: 'POST', url: '/api/v1/send/bulk', headers, payload: { messages } });
      expect(bulk.statusCode).toBe(200);
      expect(bulk.json().results.every((r: { status?: string }) => r.status === 'scheduled')).toBe(true);

      // Due, tried while down, held: every one has met the closed session, and none reached the network.
      const held = () =>
        t.runtime.store.db.selectFrom('outbox').select('seq').where('account_id', '=', id).where('last_error', 'like', '%not connected%').execute();
      await expect.poll(async () => (await held()).length, { timeout: 30_000, interval: 100 }).toBe(BACKLOG);
      const sends = () => t.runtime.store.db.selectFrom('sandbox_sends').select(['at', 'message_id']).where('account_id', '=', id).where('message_id', '!=', '').orderBy('seq').execute();
      expect(await sends()).toEqual([]);

      const reconnectedAt = Date.now();
      expect((await t.inject({ method: 'POST', url: '/api/v1/session/link', headers })).json().state).toBe('connected');
      await expect.poll(async () => (await sends()).length, { timeout: 60_000, interval: 200 }).toBe(BACKLOG);

      const network = await sends();
      expect(new Set(network.map((s) => s.message_id)).size).toBe(BACKLOG);
      expect(Number(network[0]!.at)).toBeGreaterThanOrEqual(reconnectedAt);
      const gaps = network.slice(1).map((s, i) => Number(s.at) - Number(network[i]!.at));
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(MIN_MS - ROUNDING_MS);
      // No burst anywhere: no window of the pacer's minimum pause holds two sends.
      const span = Number(network.at(-1)!.at) - Number(network[0]!.at);
      expect(span).toBeGreaterThanOrEqual((BACKLOG - 1) * (MIN_MS - ROUNDING_MS));
      // The network records a send before the lane commits its outcome: the last ones are recorded a moment later.
      const allSent = async () => (await t.runtime.store.db.selectFrom('messages').select('status').where('account_id', '=', id).execute()).every((s) => s.status === 'sent');
      await expect.poll(allSent, { timeout: 5_000 }).toBe(true);
    }, 120_000);
  });
}
