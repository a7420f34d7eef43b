// Webhook delivery figures (issue 5), each beside a plain HTTP client posting to the same receiver
// in the same run. Runs the built gateway in this process (`npm run build` first):
//   node bench/webhooks.mjs   (BENCH_WEBHOOK_EVENTS=20000 BENCH_WEBHOOK_RATE=500 BENCH_SECONDS=10 BENCH_WEBHOOK_PROFILED=5000
//   BENCH_WEBHOOK_DBS=sqlite,postgres, BENCH_DATABASE_URL)
// The receiver is a separate process on 127.0.0.1 that answers 200 at once and notes when each
// request arrived, so the gateway and the receiver do not share an event loop.
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { Agent, request } from 'undici';
import { loadConfig } from '../dist/config.js';
import { createAccount, getAccount } from '../dist/core/accounts.js';
import { updateSettings } from '../dist/core/settings.js';
import { createRuntime } from '../dist/runtime.js';
import { fmt, table } from './lib.mjs';
import { classify, fnIs, profileCpu, urlHas } from './cpu-profile.mjs';

const EVENTS = Number(process.env.BENCH_WEBHOOK_EVENTS ?? 20_000);
const RATE = Number(process.env.BENCH_WEBHOOK_RATE ?? 500);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
// The profiled pass (CPU breakdown) runs apart from the measured one: the profiler costs CPU too.
const PROFILED = Number(process.env.BENCH_WEBHOOK_PROFILED ?? Math.min(EVENTS, 5_000));
const PG_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const now = () => performance.timeOrigin + performance.now();

async function startReceiver() {
  const child = fork(new URL(import.meta.url).pathname, ['receiver'], { stdio: 'inherit' });
  const port = await new Promise((resolve) => child.once('message', resolve));
  const url = `http://127.0.0.1:${port}/hook`;
  return {
    url,
    async seen() {
      const res = await request(url);
      return new Map(Object.entries(await res.body.json()));
    },
    async count() {
      return Number(await (await request(`${url}?count`)).body.text());
    },
    async reset() {
      await (await request(url, { method: 'DELETE' })).body.dump();
    },
    stop: () => child.kill(),
  };
}

function event(key) {
  return {
    event: 'message.received',
    message: { id: key, from: '12125551234', pushName: 'Bench', type: 'text', text: key, isGroup: false, groupId: null, participant: null, timestamp: new Date().toISOString() },
  };
}

async function waitFor(receiver, keys, timeoutMs = Math.max(120_000, keys.length * 20)) {
  const deadline = Date.now() + timeoutMs;
  // Counting is cheap; the full list is fetched once everything is there.
  while ((await receiver.count()) < keys.length) {
    if (Date.now() > deadline) throw new Error(`only ${await receiver.count()} of ${keys.length} arrived`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const seen = await receiver.seen();
  const missing = keys.filter((k) => !seen.has(k));
  if (missing.length > 0) throw new Error(`${missing.length} events never arrived`);
  return seen;
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function gateway(receiver, databaseUrl) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'messageapi-bench-webhooks-'));
  const config = loadConfig({
    WHATSAPP_DRIVER: 'sandbox',
    DATA_DIR: dir,
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    MESSAGEAPI_SECRET: 'bench-secret-bench-secret-bench',
    ALLOW_PRIVATE_URLS: 'true',
    LOG_LEVEL: 'warn',
    ...(process.env.WEBHOOK_CONCURRENCY ? { WEBHOOK_CONCURRENCY: process.env.WEBHOOK_CONCURRENCY } : {}),
  });
  const runtime = await createRuntime(config, { log: pino({ level: 'warn' }) });
  const { id } = await createAccount(runtime.store, { email: `bench-${Date.now()}@example.com`, plan: 'unlimited' }, Date.now());
  const account = await getAccount(runtime.store.db, id);
  await updateSettings({ store: runtime.store, config, box: runtime.eventDelivery.box }, account, { webhookUrl: receiver.url });
  const record = (key) => runtime.store.write((tx) => runtime.events.record(tx, id, event(key), Date.now()));
  return { runtime, record, dir, concurrency: config.webhooks.concurrencyPerAccount };
}

/** Deliveries per second: a backlog of `events` committed first, then the worker started. */
async function throughput(receiver, databaseUrl, events = EVENTS, profiled = false) {
  const g = await gateway(receiver, databaseUrl);
  const keys = Array.from({ length: events }, (_, i) => `t${i}-${Math.random().toString(36).slice(2)}`);
  for (let i = 0; i < keys.length; i += 1000) await Promise.all(keys.slice(i, i + 1000).map(g.record));
  const started = now();
  const run = async () => {
    await g.runtime.start();
    await waitFor(receiver, keys);
  };
  const { profile, cpuUs } = profiled ? await profileCpu(run) : await measureCpu(run);
  const elapsed = (now() - started) / 1000;
  await g.runtime.close();
  fs.rmSync(g.dir, { recursive: true, force: true });
  return { perSecond: events / elapsed, concurrency: g.concurrency, cpuUs: cpuUs / events, profile };
}

async function measureCpu(fn) {
  const cpu = process.cpuUsage();
  await fn();
  const used = process.cpuUsage(cpu);
  return { cpuUs: used.user + used.system };
}

// Each sample's bucket: the first rule (in this order) that matches a frame of its stack.
const BUCKETS = [
  ['sign (HMAC)', fnIs('signatureHeaders')],
  ['URL check, address pinning', urlHas('/url-policy/', 'receiver-agents', 'pinned-agent', 'node_modules/ipaddr.js')],
  ['begin/commit, fsync', (f) => fnIs('beginTransaction', 'commitTransaction', 'rollbackTransaction', 'fsync')(f) || urlHas('wal-flusher')(f)],
  ['HTTP: undici + sockets', urlHas('node_modules/undici')],
  ['SQL: pg driver + sockets', urlHas('node_modules/pg')],
  ['SQL: SQLite engine', (f) => f.url === '' && ['run', 'all', 'get', 'iterate', 'exec'].includes(f.functionName)],
  ['SQL: Kysely (build, compile, execute)', urlHas('node_modules/kysely')],
  ['MessageAPI JS (worker, deliverer, store)', urlHas('/dist/')],
  ['garbage collection', fnIs('(garbage collector)')],
  ['node: timers, microtasks, streams', urlHas('node:')],
];

function breakdown(profile, cpuUsPerDelivery) {
  const shares = classify(profile, BUCKETS);
  return [...shares].map(([name, share]) => `  ${fmt(share * cpuUsPerDelivery).padStart(5)} µs  ${name}`).join('\n');
}

/** Starts `start(i)` RATE times a second for SECONDS, on schedule, and waits for all of them. */
async function paced(start) {
  const pending = [];
  const started = now();
  for (let i = 0; i < RATE * SECONDS; i++) {
    const wait = started + (i * 1000) / RATE - now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    pending.push(start(i));
  }
  await Promise.all(pending);
}

/** Commit-to-receipt delay at RATE events/s for SECONDS. */
async function latency(receiver, databaseUrl) {
  const g = await gateway(receiver, databaseUrl);
  await g.runtime.start();
  const committed = new Map();
  await paced((i) => {
    const key = `l${i}-${Math.random().toString(36).slice(2)}`;
    return g.record(key).then(() => committed.set(key, now()));
  });
  const seen = await waitFor(receiver, [...committed.keys()]);
  await g.runtime.close();
  fs.rmSync(g.dir, { recursive: true, force: true });
  const delays = [...committed].map(([key, at]) => seen.get(key) - at);
  return { p50: percentile(delays, 50), p99: percentile(delays, 99) };
}

/** The same receiver, posted to by a plain undici client: EVENTS requests, `concurrency` at a time. */
async function plainThroughput(receiver, concurrency) {
  const agent = new Agent({ connections: concurrency });
  const body = JSON.stringify(event('plain'));
  let next = 0;
  const started = now();
  const cpu = process.cpuUsage();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < EVENTS) {
        const i = next++;
        const res = await request(receiver.url, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json', 'x-bench-key': `p${i}` }, body });
        await res.body.dump();
      }
    }),
  );
  const elapsed = (now() - started) / 1000;
  await agent.close();
  return { perSecond: EVENTS / elapsed, cpuUs: (() => { const u = process.cpuUsage(cpu); return (u.user + u.system) / EVENTS; })() };
}

async function plainLatency(receiver) {
  const agent = new Agent({ connections: 16 });
  const body = JSON.stringify(event('plain'));
  const sentAt = new Map();
  await paced((i) => {
    const key = `q${i}`;
    sentAt.set(key, now());
    return request(receiver.url, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json', 'x-bench-key': key }, body }).then((r) => r.body.dump());
  });
  const seen = await waitFor(receiver, [...sentAt.keys()]);
  await agent.close();
  const delays = [...sentAt].map(([key, at]) => seen.get(key) - at);
  return { p50: percentile(delays, 50), p99: percentile(delays, 99) };
}

async function main() {
  const receiver = await startReceiver();
  try {
    const rows = [['what', 'deliveries/s', 'CPU µs each', 'p50 ms', 'p99 ms', 'note']];
    const dbs = (process.env.BENCH_WEBHOOK_DBS ?? 'sqlite,postgres').split(',');
    const runs = dbs.includes('sqlite') ? [['SQLite', undefined]] : [];
    const pgDatabase = !dbs.includes('postgres') ? undefined : await freshPgDatabase(PG_URL).catch((error) => {
      console.log(`PostgreSQL skipped (${PG_URL}): ${error.message}`);
      return undefined;
    });
    if (pgDatabase) runs.push(['PostgreSQL', pgDatabase.url]);
    const concurrency = 8;
    // The plain client first and again last: the machine's load moves, and the ratio uses their mean.
    await receiver.reset();
    const plainBefore = await plainThroughput(receiver, concurrency);
    const results = [];
    for (const [name, url] of runs) {
      await receiver.reset();
      const t = await throughput(receiver, url);
      await receiver.reset();
      const l = await latency(receiver, url);
      await receiver.reset();
      const p = await throughput(receiver, url, PROFILED, true);
      results.push({ name, t, l, p });
    }
    await receiver.reset();
    const plainAfter = await plainThroughput(receiver, concurrency);
    await receiver.reset();
    const pl = await plainLatency(receiver);
    const plain = (plainBefore.perSecond + plainAfter.perSecond) / 2;
    for (const { name, t, l } of results) {
      rows.push([`MessageAPI webhooks, ${name}`, fmt(t.perSecond), fmt(t.cpuUs), fmt(l.p50, 1), fmt(l.p99, 1), `${EVENTS} backlog, ${t.concurrency} per account; latency = commit → receipt at ${RATE}/s for ${SECONDS} s`]);
    }
    rows.push(['plain undici client', `${fmt(plainBefore.perSecond)} / ${fmt(plainAfter.perSecond)}`, `${fmt(plainBefore.cpuUs)} / ${fmt(plainAfter.cpuUs)}`, fmt(pl.p50, 1), fmt(pl.p99, 1), `before / after the gateway runs; ${concurrency} connections; latency = send → receipt at ${RATE}/s`]);
    console.log(table(rows));
    for (const { name, t, l } of results) {
      console.log(`${name}: ratio to the plain client ${fmt(t.perSecond / plain, 2)} (target >= 0.5); commit → receipt p99 ${fmt(l.p99, 1)} ms at ${RATE}/s (target <= 200)`);
    }
    for (const { name, p } of results) {
      console.log(`${name}, CPU per delivery in a profiled run of ${PROFILED} (${fmt(p.cpuUs)} µs, the profiler's own share included):`);
      console.log(breakdown(p.profile, p.cpuUs));
    }
    console.log(`Load average while it ran: ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} CPUs.`);
    await pgDatabase?.drop();
  } finally {
    receiver.stop();
  }
}

async function freshPgDatabase(base) {
  const pg = (await import('pg')).default;
  const name = `messageapi_bench_webhooks_${Date.now()}`;
  const client = new pg.Client({ connectionString: base });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const admin = new pg.Client({ connectionString: base });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

// ---- the receiver, in a child process ------------------------------------------------------------
if (process.argv[2] === 'receiver') {
  const http = await import('node:http');
  let seen = new Map();
  const server = http.createServer((req, res) => {
    if (req.method === 'GET') {
      res.end(req.url.endsWith('?count') ? String(seen.size) : JSON.stringify(Object.fromEntries(seen)));
      return;
    }
    if (req.method === 'DELETE') {
      seen = new Map();
      res.end('{}');
      return;
    }
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const at = now();
      // The bench puts its own key in the event; a plain-client request carries it in a header.
      const key = req.headers['x-bench-key'] ?? JSON.parse(Buffer.concat(chunks).toString()).message.text;
      if (!seen.has(key)) seen.set(key, at);
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  server.keepAliveTimeout = 10_000;
  server.listen(0, '127.0.0.1', () => process.send(server.address().port));
  process.on('disconnect', () => process.exit(0));
} else {
  await main();
  process.exit(0);
}
