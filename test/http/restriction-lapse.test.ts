import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createAccount } from '../../src/core/accounts.js';
import type { EventRecorder, GatewayEvent } from '../../src/core/events.js';
import { readRestrictions, recordRestrictions } from '../../src/core/restrictions/restrictions.js';
import { liftLapsedTimelocks } from '../../src/core/restrictions/timelock-lapse.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import { Store } from '../../src/store/store.js';
import type { SandboxDriver } from '../../src/whatsapp/sandbox/sandbox-driver.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../helpers/databases.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * WhatsApp sends nothing when a reach-out timelock runs out: the gateway lifts it itself at its end
 * (account.restriction_lifted, status cleared), also when the end passed while it was not running,
 * and raises it once however many notice it.
 */

const HOUR = 3_600_000;

function recording() {
  const seen: Array<{ accountId: string; event: GatewayEvent }> = [];
  const recorder: EventRecorder = {
    async record(_tx, accountId, event) {
      seen.push({ accountId, event });
    },
  };
  const of = (accountId: string) => seen.filter((s) => s.accountId === accountId).map((s) => s.event.event);
  return { recorder, of };
}

for (const dialect of testDialects()) {
  describe(`a reach-out timelock that runs out (${dialect})`, () => {
    describe('on the real clock', () => {
      const { recorder, of } = recording();
      let t: TestApp;
      beforeAll(async () => {
        t = await startTestApp(dialect, { events: recorder });
      }, 60_000);
      afterAll(() => t.close());

      it('is lifted at its end with no notification: account.restriction_lifted, and the status clears', async () => {
        const { id, apiKey } = await t.createAccount('unlimited');
        const until = new Date(Date.now() + 1_500).toISOString();
        const res = await t.inject({ method: 'POST', url: '/api/v1/sandbox/restrictions', headers: { 'x-api-key': apiKey }, payload: { timelockUntil: until } });
        expect(res.statusCode).toBe(200);
        expect(of(id)).toEqual(['account.restricted']);
        await expect.poll(() => of(id), { timeout: 20_000, interval: 50 }).toEqual(['account.restricted', 'account.restriction_lifted']);
        expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(until));
        const status = (await t.inject({ method: 'GET', url: '/api/v1/status', headers: { 'x-api-key': apiKey } })).json();
        expect(status.restrictions.reachoutTimelock).toEqual({ active: false, until: null });
        const row = await t.runtime.store.db.selectFrom('account_restrictions').select(['timelock_active', 'timelock_until']).where('account_id', '=', id).executeTakeFirstOrThrow();
        expect({ active: Number(row.timelock_active), until: row.timelock_until }).toEqual({ active: 0, until: null });
      }, 30_000);
    });

    describe('under a fake clock', () => {
      let database: TestDatabase;
      let store: Store;
      let now = Date.now();
      const clock = () => now;
      const { recorder, of } = recording();
      const config = () =>
        loadConfig({ WHATSAPP_DRIVER: 'sandbox', DATA_DIR: database.dataDir, DATABASE_URL: database.url, LOG_LEVEL: 'silent', MESSAGEAPI_SECRET: 'test-secret-test-secret-test-secret' });
      const runtime = async (): Promise<Runtime> => {
        const r = await createRuntime(config(), { log: pino({ level: 'silent' }), clock, store, events: recorder });
        await r.start();
        return r;
      };
      const account = async () => (await createAccount(store, { email: `lapse-${Math.random().toString(36).slice(2)}@example.com`, plan: 'unlimited', expiresAt: null }, now)).id;

      beforeAll(async () => {
        database = await createTestDatabase(dialect);
        store = Store.open(database.url);
        await store.migrate();
      }, 60_000);
      afterAll(async () => {
        await store.close();
        await database.drop();
      });

      it('an end that passed while the gateway was stopped is lifted when it starts', async () => {
        const first = await runtime();
        const id = await account();
        await (first.driver as SandboxDriver).simulateRestrictions(id, { timelock: { active: true, until: now + HOUR } });
        expect(of(id)).toEqual(['account.restricted']);
        await first.close();
        now += 2 * HOUR;
        const second = await runtime();
        try {
          await expect.poll(() => of(id), { timeout: 10_000, interval: 50 }).toEqual(['account.restricted', 'account.restriction_lifted']);
          expect((await readRestrictions(store.db, id, now)).reachoutTimelock).toEqual({ active: false, until: null });
        } finally {
          await second.close();
        }
      }, 60_000);

      it('WhatsApp saying "lifted" after the end passed unnoticed raises it once, and the sweep after finds nothing', async () => {
        const id = await account();
        await recordRestrictions(store, recorder, id, { timelock: { active: true, until: now + HOUR } }, now);
        now += 2 * HOUR;
        await recordRestrictions(store, recorder, id, { timelock: { active: false, until: null } }, now);
        expect(await liftLapsedTimelocks(store, recorder, now)).toBe(0);
        expect(of(id)).toEqual(['account.restricted', 'account.restriction_lifted']);
      });

      it('a report of an end already passed starts nothing', async () => {
        const id = await account();
        await recordRestrictions(store, recorder, id, { timelock: { active: true, until: now - 1_000 } }, now);
        expect(await liftLapsedTimelocks(store, recorder, now)).toBe(0);
        expect(of(id)).toEqual([]);
      });

      it('sweeps running at once (two connections: two processes on PostgreSQL) lift each timelock once', async () => {
        const ids = [await account(), await account(), await account()];
        for (const id of ids) await recordRestrictions(store, recorder, id, { timelock: { active: true, until: now + HOUR } }, now);
        now += HOUR;
        const other = Store.open(database.url);
        try {
          const lifted = await Promise.all([liftLapsedTimelocks(store, recorder, now), liftLapsedTimelocks(other, recorder, now), liftLapsedTimelocks(store, recorder, now)]);
          expect(lifted.reduce((a, b) => a + b, 0)).toBe(3);
        } finally {
          await other.close();
        }
        for (const id of ids) expect(of(id)).toEqual(['account.restricted', 'account.restriction_lifted']);
      });
    });
  });
}
