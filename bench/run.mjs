// `npm run bench`: the figures issue 3 asks for, each beside a baseline measured in the same run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { createAccount, fmt, load, ROOT, startServer, table } from './lib.mjs';
import { benchSigninFlood, printSigninFlood } from './signin-flood.mjs';
import { benchPostgresSends, benchSqliteSends, printPostgresSends, printSqliteSends } from './sends.mjs';
import { benchScaleOut, printScaleOut } from './scale-out.mjs';

const DURATION = Number(process.env.BENCH_SECONDS ?? 10);
const HISTORY = Number(process.env.BENCH_HISTORY ?? 1_000_000);
const DISPATCH = Number(process.env.BENCH_DISPATCH ?? 50_000);
const PG_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

// BENCH_ONLY=sends,history,dispatch,postgres,webhooks,flood,scaleout runs a subset.
const only = new Set((process.env.BENCH_ONLY ?? 'sends,history,dispatch,postgres,webhooks,flood,scaleout').split(','));
const tmp = (name) => fs.mkdtempSync(path.join(os.tmpdir(), `messageapi-bench-${name}-`));
const baseEnv = { WHATSAPP_DRIVER: 'sandbox', LOG_LEVEL: 'warn', MESSAGEAPI_SECRET: 'bench-secret-bench-secret-bench' };
const sendBody = (i = 0) => JSON.stringify({ recipient: '12125551234', text: `bench ${i}`, wait: 0 });

function count(file, sql, ...args) {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(sql).pluck().get(...args);
  } finally {
    db.close();
  }
}

const summary = (r) => ({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, ok: r['2xx'], other: r.non2xx + r.errors });

async function benchHistory() {
  const dir = tmp('history');
  const env = { ...baseEnv, DATA_DIR: dir, PLAN_TRIAL_DAILY_LIMIT: '1000000000' };
  const empty = await createAccount(env, 'trial');
  const full = await createAccount(env, 'trial');
  const file = path.join(dir, 'messageapi.db');
  const db = new Database(file);
  const now = Date.now();
  const spacing = Math.floor((30 * 24 * 3600 * 1000) / HISTORY);
  db.prepare(`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
    INSERT INTO messages (id, account_id, recipient, kind, text, status, wa_message_id, created_at, sent_at)
    SELECT 'history-' || i, ?, '12125551234', 'text', 'old news', 'sent', 'WA' || i, ? - i * ?, ? - i * ? FROM n`).run(HISTORY - 1, full.id, now, spacing, now, spacing);
  // The counters as the server keeps them (see src/core/quota.ts): per minute and per hour, 8 shards.
  db.prepare(`INSERT INTO usage_minutes (account_id, minute, shard, count)
    SELECT account_id, created_at / 60000, abs(random()) % 8, count(*) FROM messages WHERE account_id = ? AND created_at > ? GROUP BY 1, 2`).run(full.id, now - 24 * 3600 * 1000);
  db.prepare(`INSERT INTO usage_hours (account_id, hour, shard, count)
    SELECT account_id, minute / 60, shard, sum(count) FROM usage_minutes WHERE account_id = ? GROUP BY 1, 2, 3`).run(full.id);
  db.close();
  const server = await startServer(env);
  const status = async (key) => summary(await load({ url: `${server.url}/api/v1/status`, headers: { 'x-api-key': key }, duration: Math.max(3, DURATION / 2), connections: 10 }));
  const send = async (key) => summary(await load({ url: `${server.url}/api/v1/send`, method: 'POST', headers: { 'x-api-key': key, 'content-type': 'application/json' }, body: sendBody(), duration: Math.max(3, DURATION / 2), connections: 10 }));
  await status(empty.apiKey);
  const result = { statusEmpty: await status(empty.apiKey), statusFull: await status(full.apiKey), sendEmpty: await send(empty.apiKey), sendFull: await send(full.apiKey) };
  const today = await (await fetch(`${server.url}/api/v1/status`, { headers: { 'x-api-key': full.apiKey } })).json();
  await server.stop();
  return { ...result, messagesToday: today.messagesToday };
}

async function benchDispatch() {
  const dir = tmp('dispatch');
  const env = { ...baseEnv, DATA_DIR: dir };
  const account = await createAccount(env, 'unlimited');
  const file = path.join(dir, 'messageapi.db');
  const db = new Database(file);
  const now = Date.now();
  db.transaction(() => {
    db.prepare(`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
      INSERT INTO messages (id, account_id, recipient, kind, text, status, wa_message_id, created_at)
      SELECT 'pending-' || i, ?, '12125551234', 'text', 'queued', 'pending', 'WAP' || i, ? FROM n`).run(DISPATCH - 1, account.id, now);
    db.prepare(`INSERT INTO outbox (kind, account_id, ref, attempts, run_at, created_at)
      SELECT 'message', account_id, id, 0, ?, ? FROM messages WHERE account_id = ? ORDER BY id`).run(now, now, account.id);
  })();
  db.close();
  const server = await startServer(env);
  const started = Date.now();
  const reader = new Database(file, { readonly: true });
  const left = reader.prepare("select count(*) from outbox where kind = 'message'").pluck();
  while (left.get() > 0) await new Promise((r) => setTimeout(r, 20));
  const elapsed = Date.now() - started;
  const sent = reader.prepare("select count(*) from messages where status = 'sent'").pluck().get();
  const network = reader.prepare('select count(*) from sandbox_sends').pluck().get();
  reader.close();
  await server.stop();
  return { elapsed, sent, network, rate: (sent / elapsed) * 1000 };
}

console.log(`MessageAPI benchmark — ${os.cpus().length} cores, Node ${process.version}, ${DURATION} s per load, 50 connections\n`);

if (only.has('sends')) printSqliteSends(await benchSqliteSends(baseEnv, DURATION));

if (only.has('history')) {
  const history = await benchHistory();
  console.log(`2. Latency with ${HISTORY.toLocaleString('en')} messages in the account's history (${history.messagesToday} in the last 24 h) vs an empty account (10 connections)`);
  console.log(table([
    ['', 'empty p50/p99 ms', 'history p50/p99 ms', 'ratio (mean)'],
    ['GET /api/v1/status', `${fmt(history.statusEmpty.p50, 1)} / ${fmt(history.statusEmpty.p99, 1)}`, `${fmt(history.statusFull.p50, 1)} / ${fmt(history.statusFull.p99, 1)}`, fmt(history.statusEmpty.rps / history.statusFull.rps, 2)],
    ['POST /api/v1/send', `${fmt(history.sendEmpty.p50, 1)} / ${fmt(history.sendEmpty.p99, 1)}`, `${fmt(history.sendFull.p50, 1)} / ${fmt(history.sendFull.p99, 1)}`, fmt(history.sendEmpty.rps / history.sendFull.rps, 2)],
  ]));
  console.log('(ratio = throughput empty / throughput with history, i.e. mean latency with history / without; target <= 1.2)\n');
}

if (only.has('dispatch')) {
  const dispatch = await benchDispatch();
  console.log(`3. End-to-end dispatch through the sandbox driver (SQLite): ${dispatch.sent} pending messages sent in ${dispatch.elapsed} ms = ${fmt(dispatch.rate)} messages/s (target >= 5,000); network record ${dispatch.network}\n`);
}

if (only.has('postgres')) printPostgresSends(await benchPostgresSends(baseEnv, DURATION, PG_URL));

const webhookBench = path.join(ROOT, 'bench/webhooks.mjs');
if (only.has('webhooks') && fs.existsSync(webhookBench)) {
  console.log('5. Webhook deliveries');
  const out = spawnSync(process.execPath, [webhookBench], { encoding: 'utf8', env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  process.stdout.write(out.stdout);
  if (out.status !== 0) process.stdout.write(out.stderr);
}

if (only.has('flood')) {
  console.log('6. Sends during a flood of bogus sign-ins (issue 12): one send every 10 ms, timed');
  printSigninFlood(await benchSigninFlood());
}

if (only.has('scaleout')) {
  console.log('7. Several processes on one PostgreSQL (issue 18): accepted sends/s with 1, 2 and 3 processes, 6 accounts spread over them, 50 connections in all');
  printScaleOut(await benchScaleOut(PG_URL, baseEnv, DURATION));
}
