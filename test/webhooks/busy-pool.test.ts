import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { connectReceiver, deliveries, fakeClock } from './helpers.js';
import { TestReceiver } from './receiver.js';

/**
 * A burst of one account's events queues its transactions on that account's event-log lock, each
 * holding one of the main pool's connections (issue 20: at 500 events/s every connection ended up
 * waiting there, and the webhook worker waited behind them for one). The workers have connections
 * of their own: another account's deliveries go on while the main pool is full.
 */
for (const dialect of testDialects().filter((d) => d === 'postgres')) {
  describe(`webhook deliveries while requests hold every connection (${dialect})`, () => {
    let t: TestApp;
    let r: TestReceiver;
    const clock = fakeClock();
    beforeAll(async () => {
      t = await startTestApp(dialect, { env: { ALLOW_PRIVATE_URLS: 'true' }, clock: clock.read });
      r = await TestReceiver.start();
    });
    let afterRelease: (() => void) | undefined;
    afterAll(async () => {
      afterRelease?.();
      await t.close();
      await r.close();
    });

    it("delivers an account's due retry while 25 of another account's events wait on its event-log lock", { timeout: 60_000 }, async () => {
      const incoming = (apiKey: string, text: string) => t.inject({ method: 'POST', url: '/api/v1/sandbox/incoming', headers: { 'x-api-key': apiKey }, payload: { from: '12125559876', text } });
      const b = await t.createAccount('unlimited');
      await connectReceiver(t, b.apiKey, r);
      let up = false;
      let answeredOk = 0;
      r.answer = () => {
        if (up) answeredOk++;
        return { status: up ? 200 : 500 };
      };
      expect((await incoming(b.apiKey, 'for b')).statusCode).toBe(200);
      // Two attempts (the second at once) fail; the next is due 5 s later on the gateway's clock.
      await expect.poll(async () => (await deliveries(t, b.apiKey))[0]?.attempts, { timeout: 10_000 }).toBe(2);

      const a = await t.createAccount('unlimited');
      expect((await incoming(a.apiKey, 'first')).statusCode).toBe(200);
      // Hold a's event-log lock, as a long transaction appending to it would.
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let locked!: () => void;
      const lockTaken = new Promise<void>((resolve) => (locked = resolve));
      const holder = t.runtime.store.write(async (tx) => {
        await sql`UPDATE event_log_heads SET last_seq = last_seq WHERE account_id = ${a.id}`.execute(tx);
        locked();
        await gate;
      });
      await lockTaken;
      afterRelease = release;
      const burst = Array.from({ length: 25 }, (_, i) => incoming(a.apiKey, `burst ${i}`));
      // Every connection of the main pool is taken: by the holder and by the burst's transactions waiting on it.
      const watcher = new pg.Client({ connectionString: t.database.url });
      await watcher.connect();
      const waiting = async () => Number((await watcher.query("SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")).rows[0].n);
      await expect.poll(async () => (await waiting()) >= 19, { timeout: 10_000 }).toBe(true);
      await watcher.end();

      up = true;
      clock.now += 60 * 60 * 1000;
      t.runtime.eventDelivery.kick();
      try {
        await expect.poll(() => answeredOk, { timeout: 5_000 }).toBe(1);
        expect(r.events().filter((e) => e.body.message?.text === 'for b')).toHaveLength(3);
      } finally {
        release();
        await holder;
      }
      const answers = await Promise.all(burst);
      expect(answers.map((x) => x.statusCode)).toEqual(Array(25).fill(200));
      const events = (await t.inject({ method: 'GET', url: '/api/v1/events?after=0&limit=100', headers: { 'x-api-key': a.apiKey } })).json().events;
      expect(events.map((e: { cursor: number }) => Number(e.cursor))).toEqual(Array.from({ length: 26 }, (_, i) => i + 1));
    });
  });
}
