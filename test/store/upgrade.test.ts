import { createHash, randomBytes } from 'node:crypto';
import { Kysely, Migrator, type Migration } from 'kysely';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { hashApiKey } from '../../src/core/api-keys.js';
import { hashPassword } from '../../src/core/passwords.js';
import { SecretBox } from '../../src/core/secret-box.js';
import { createRuntime } from '../../src/runtime.js';
import type { Dialect } from '../../src/store/dialect.js';
import { Store } from '../../src/store/store.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../helpers/databases.js';
import { allMigrations as firstReleaseMigrations } from './fixtures/migrations-v1/index.js';
import { usageHoursMigration as first005 } from './fixtures/migration-005-first/005-usage-hours.js';

/**
 * A database made by the first release's migrations (test/store/fixtures/migrations-v1: the files
 * as of 84cc0a4, where every reserved slot had its tables), filled with data, then opened by
 * today's gateway. Also the database of someone who upgraded while 005 was in its first form
 * (f96acab): both variants of the edited migrations must end in today's schema with every row.
 */
const SECRET = 'upgrade-secret-upgrade-secret-upgrade';
const PASSWORD = 'an old password, still good';
const HOUR = 60 * 60 * 1000;

async function migrateWith(db: Kysely<any>, migrations: Record<string, Migration>) {
  const { error } = await new Migrator({ db, provider: { getMigrations: async () => migrations } }).migrateToLatest();
  if (error) throw error;
}

/** Rows as the first release wrote them (its columns, its tables), for two accounts. */
async function fillFirstRelease(db: Kysely<any>, now: number) {
  const box = new SecretBox(SECRET);
  const apiKey = `msg_${randomBytes(16).toString('hex')}`;
  const browserToken = randomBytes(32).toString('base64url');
  await db.insertInto('accounts').values([
    { id: 'acc_old_trial', email: 'old@example.com', password_hash: await hashPassword(PASSWORD), plan: 'trial', subscription_expires_at: null, active: 1, is_admin: 0, webhook_url: null, webhook_secret: null, disconnect_email: 1, created_at: now - 48 * HOUR },
    { id: 'acc_old_unlimited', email: 'hooks@example.com', password_hash: null, plan: 'unlimited', subscription_expires_at: null, active: 1, is_admin: 0, webhook_url: 'http://127.0.0.1:9/hook', webhook_secret: box.encrypt('whsec_old'), disconnect_email: 1, created_at: now - 48 * HOUR },
  ]).execute();
  await db.insertInto('api_keys').values({ id: 'key_old', account_id: 'acc_old_trial', prefix: apiKey.slice(0, 10), key_hash: hashApiKey(apiKey), created_at: now - 48 * HOUR, last_used_at: null, revoked_at: null }).execute();
  const message = (id: string, accountId: string, status: string, at: number) => ({
    id, account_id: accountId, recipient: '12125551234', kind: 'text', text: `old ${id}`, media_url: null, filename: null, status,
    error: status === 'failed' ? 'The number is not on WhatsApp.' : null, wa_message_id: `3EB0${id.toUpperCase()}`, created_at: at, sent_at: status === 'sent' ? at + 1000 : null, delivered_at: null, read_at: null,
  });
  await db.insertInto('messages').values([
    message('msg_old_sent', 'acc_old_trial', 'sent', now - 2 * HOUR),
    message('msg_old_recent', 'acc_old_trial', 'sent', now - HOUR),
    message('msg_old_failed', 'acc_old_trial', 'failed', now - 30 * HOUR),
    message('msg_old_pending', 'acc_old_unlimited', 'pending', now - 60_000),
  ]).execute();
  // The two sends in the last 24 hours count against the trial's limit.
  await db.insertInto('usage_buckets').values([
    { account_id: 'acc_old_trial', bucket: Math.floor((now - 2 * HOUR) / 60_000), count: 1 },
    { account_id: 'acc_old_trial', bucket: Math.floor((now - HOUR) / 60_000), count: 1 },
  ]).execute();
  await db.insertInto('idempotency_keys').values({ account_id: 'acc_old_trial', key: 'old-key', message_id: 'msg_old_recent', created_at: now - HOUR }).execute();
  await db.insertInto('outbox').values({ kind: 'message', account_id: 'acc_old_unlimited', ref: 'msg_old_pending', attempts: 0, run_at: now - 60_000, locked_until: null, locked_by: null, last_error: null, created_at: now - 60_000 }).execute();
  await db.insertInto('webhook_deliveries').values({ id: 'whd_old', event_id: 'evt_old', account_id: 'acc_old_unlimited', event: 'message.sent', payload: '{"type":"message.sent"}', test: 0, status: 'delivered', attempts: 1, last_status: 200, last_error: null, next_attempt_at: null, created_at: now - 3 * HOUR, delivered_at: now - 3 * HOUR, finished_at: now - 3 * HOUR }).execute();
  await db.insertInto('webhook_attempts').values({ delivery_id: 'whd_old', at: now - 3 * HOUR, url: 'http://127.0.0.1:9/hook', status: 200, error: null, response: 'ok', duration_ms: 12 }).execute();
  await db.insertInto('wa_sessions').values({ account_id: 'acc_old_trial', state: 'connected', phone: '15550001111', reason: null, detail: null, updated_at: now - HOUR }).execute();
  await db.insertInto('sandbox_sends').values({ account_id: 'acc_old_trial', message_id: 'msg_old_sent', wa_message_id: '3EB0MSG_OLD_SENT', recipient: '12125551234', kind: 'text', at: now - 2 * HOUR }).execute();
  await db.insertInto('browser_sessions').values({ id: createHash('sha256').update(browserToken).digest('hex'), account_id: 'acc_old_trial', csrf_token: 'csrf-old', user_agent: 'old browser', created_at: now - HOUR, last_seen_at: now - HOUR, expires_at: now + 24 * HOUR }).execute();
  return { apiKey, browserToken };
}

const COUNTED_TABLES = ['accounts', 'api_keys', 'messages', 'idempotency_keys', 'webhook_deliveries', 'webhook_attempts', 'wa_sessions', 'sandbox_sends', 'browser_sessions'] as const;

async function rowCounts(db: Kysely<any>) {
  const counts: Record<string, number> = {};
  for (const table of COUNTED_TABLES) counts[table] = Number((await db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  return counts;
}

for (const dialect of testDialects()) {
  describe(`upgrading a database from the first release (${dialect})`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    async function oldDatabase(withFirst005: boolean) {
      const database: TestDatabase = await createTestDatabase(dialect);
      cleanups.push(() => database.drop());
      const store = Store.open(database.url);
      const db = store.db as unknown as Kysely<any>;
      const now = Date.now();
      await migrateWith(db, firstReleaseMigrations(dialect as Dialect));
      const secrets = await fillFirstRelease(db, now);
      if (withFirst005) await migrateWith(db, { ...firstReleaseMigrations(dialect), '005-usage-hours': first005() });
      const before = await rowCounts(db);
      await store.close();
      return { database, secrets, before };
    }

    async function todaysApp(database: TestDatabase) {
      const config = loadConfig({ WHATSAPP_DRIVER: 'sandbox', DATA_DIR: database.dataDir, DATABASE_URL: database.url, LOG_LEVEL: 'silent', MESSAGEAPI_SECRET: SECRET, PLAN_TRIAL_DAILY_LIMIT: '3' });
      const runtime = await createRuntime(config, { log: pino({ level: 'silent' }) });
      const app = await buildApp(runtime);
      cleanups.push(async () => {
        await app.close();
        await runtime.close();
      });
      return { app, runtime };
    }

    for (const variant of ['as first released', 'after the first 005-usage-hours'] as const) {
      it(`keeps every row and every way in, ${variant}`, async () => {
        const { database, secrets, before } = await oldDatabase(variant !== 'as first released');
        const { app, runtime } = await todaysApp(database);
        const db = runtime.store.db as unknown as Kysely<any>;
        expect(await runtime.store.pendingMigrations()).toBe(0);
        expect(await rowCounts(db)).toEqual(before);
        await runtime.start();
        // Today's usage tables hold the old counts; the tables the edits added exist.
        const usage = await db.selectFrom('usage_minutes').select((eb) => eb.fn.sum('count').as('n')).where('account_id', '=', 'acc_old_trial').executeTakeFirstOrThrow();
        expect(Number(usage.n)).toBe(2);
        await db.selectFrom('wa_recipients').selectAll().execute();

        const key = { 'x-api-key': secrets.apiKey };
        const old = await app.inject({ method: 'GET', url: '/api/v1/messages/msg_old_sent', headers: key });
        expect(old.statusCode, old.body).toBe(200);
        expect(old.json()).toMatchObject({ messageId: 'msg_old_sent', status: 'sent', recipient: '12125551234', type: 'text' });
        const log = await app.inject({ method: 'GET', url: '/api/v1/messages?limit=10', headers: key });
        expect(log.json().messages.map((m: { messageId: string }) => m.messageId)).toEqual(['msg_old_failed', 'msg_old_recent', 'msg_old_sent']);

        // An idempotent retry of an old request answers the old message.
        const replay = await app.inject({ method: 'POST', url: '/api/v1/send', headers: { ...key, 'idempotency-key': 'old-key' }, payload: { recipient: '12125551234', text: 'again' } });
        expect(replay.json()).toMatchObject({ success: true, messageId: 'msg_old_recent' });
        // The old usage still counts: a limit of 3 with 2 sent leaves one.
        const send = await app.inject({ method: 'POST', url: '/api/v1/send', headers: key, payload: { recipient: '12125551234', text: 'after the upgrade' } });
        expect(send.statusCode, send.body).toBe(200);
        expect(send.json().status).toBe('sent');
        const over = await app.inject({ method: 'POST', url: '/api/v1/send', headers: key, payload: { recipient: '12125551234', text: 'one too many' } });
        expect(over.statusCode).toBe(429);
        expect(over.json().code).toBe('daily_limit_reached');

        // The message left pending in the old outbox goes out.
        await expect
          .poll(async () => (await db.selectFrom('messages').select('status').where('id', '=', 'msg_old_pending').executeTakeFirstOrThrow()).status, { timeout: 10_000 })
          .toBe('sent');

        // Sign in with the old password, and the old browser session still works.
        const login = await app.inject({ method: 'POST', url: '/auth/login', payload: { email: 'old@example.com', password: PASSWORD } });
        expect(login.statusCode, login.body).toBe(200);
        const state = await app.inject({ method: 'GET', url: '/auth/state', cookies: { messageapi_session: secrets.browserToken } });
        expect(state.json()).toMatchObject({ signedIn: true, account: { email: 'old@example.com' } });
        const deliveries = await db.selectFrom('webhook_deliveries').select('id').where('id', '=', 'whd_old').execute();
        expect(deliveries).toHaveLength(1);
      });
    }
  });
}
