// Sections 1 and 4 of `npm run bench`: accepted sends on SQLite beside a bare Fastify route, and on
// PostgreSQL beside 50 `pg` clients committing two-insert transactions, each with a CPU breakdown.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { createAccount, fmt, load, ROOT, startProcess, startServer, table } from './lib.mjs';
import { pgTwoInsertRate } from './pg-reference.mjs';
import { monotonicUs, processCpuUs, profileShares } from './send-profile.mjs';

const tmp = (name) => fs.mkdtempSync(path.join(os.tmpdir(), `messageapi-bench-${name}-`));
const sendBody = (i = 0) => JSON.stringify({ recipient: '12125551234', text: `bench ${i}`, wait: 0 });
const summary = (r) => ({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, ok: r['2xx'], other: r.non2xx + r.errors });

function sendLoad(url, apiKey, duration) {
  return load({ url: `${url}/api/v1/send`, method: 'POST', duration, headers: { 'x-api-key': apiKey ?? 'none', 'content-type': 'application/json' }, body: sendBody() });
}

/**
 * Our server under a send load, its CPU time measured from /proc; then again under --cpu-prof for
 * where that time goes (the profiler slows the server, so its own figures are not used).
 */
async function measureOurs(env, apiKey, duration) {
  const server = await startServer(env);
  await sendLoad(server.url, apiKey, 2);
  const cpuBefore = processCpuUs(server.child.pid);
  const ours = summary(await sendLoad(server.url, apiKey, duration));
  const cpuAfter = processCpuUs(server.child.pid);
  await server.stop();
  const profileDir = tmp('profile');
  const profiled = await startProcess('--cpu-prof', [`--cpu-prof-dir=${profileDir}`, path.join(ROOT, 'bin/messageapi.js'), 'serve'], env, '/readyz');
  await sendLoad(profiled.url, apiKey, 1);
  const from = monotonicUs();
  await sendLoad(profiled.url, apiKey, Math.min(duration, 5));
  const to = monotonicUs();
  await profiled.stop();
  const cpuPerSend = cpuBefore === null || cpuAfter === null || ours.ok === 0 ? null : (cpuAfter - cpuBefore) / ours.ok;
  return { ours, breakdown: { cpuPerSend, shares: profileShares(profileDir, from, to) } };
}

export async function benchSqliteSends(baseEnv, duration) {
  const bare = await startProcess(path.join(ROOT, 'bench/bare-server.mjs'), [], {}, '/api/v1/send');
  await sendLoad(bare.url, undefined, 2);
  const bareCpu = processCpuUs(bare.child.pid);
  const baseline = summary(await sendLoad(bare.url, undefined, duration));
  baseline.cpuPerRequest = bareCpu === null ? null : (processCpuUs(bare.child.pid) - bareCpu) / baseline.ok;
  await bare.stop();

  const dir = tmp('send');
  const env = { ...baseEnv, DATA_DIR: dir };
  const account = await createAccount(env, 'unlimited');
  const { ours, breakdown } = await measureOurs(env, account.apiKey, duration);
  const db = new Database(path.join(dir, 'messageapi.db'), { readonly: true });
  const stored = db.prepare('select count(*) from messages').pluck().get();
  db.close();
  return { baseline, ours, stored, breakdown };
}

export async function benchPostgresSends(baseEnv, duration, pgUrl) {
  const name = `messageapi_bench_${Date.now()}`;
  const admin = new pg.Client({ connectionString: pgUrl });
  try {
    await admin.connect();
  } catch (error) {
    return { skipped: `no PostgreSQL at ${pgUrl.replace(/\/\/[^@]*@/, '//')} (${error.message})` };
  }
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(pgUrl);
  url.pathname = `/${name}`;
  const env = { ...baseEnv, DATA_DIR: tmp('pg'), DATABASE_URL: url.toString() };
  try {
    const reference = await pgTwoInsertRate(url.toString(), { seconds: duration });
    const account = await createAccount(env, 'unlimited');
    const { ours, breakdown } = await measureOurs(env, account.apiKey, duration);
    return { reference, ours, breakdown };
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

function printBreakdown({ cpuPerSend, shares }) {
  // The accepted messages are dispatched (sandbox) during the same load: their cost is in the figure.
  console.log(`server CPU per accepted send, its dispatch included: ${cpuPerSend === null ? '-' : fmt(cpuPerSend)} µs, by the shares of a --cpu-prof run:`);
  console.log(shares.map((b) => `  ${b.name.padEnd(34)} ${cpuPerSend === null ? '' : `${fmt(b.share * cpuPerSend).padStart(6)} µs`}  ${fmt(b.share * 100).padStart(3)} %`).join('\n'));
}

export function printSqliteSends(sends) {
  console.log('1. POST /api/v1/send (sandbox, SQLite WAL; every answer after the fsync of its commit; wait=0)');
  console.log(table([
    ['', 'req/s', 'p50 ms', 'p99 ms', '2xx', 'other'],
    ['bare Fastify route (reference)', fmt(sends.baseline.rps), fmt(sends.baseline.p50, 1), fmt(sends.baseline.p99, 1), sends.baseline.ok, sends.baseline.other],
    ['MessageAPI send', fmt(sends.ours.rps), fmt(sends.ours.p50, 1), fmt(sends.ours.p99, 1), sends.ours.ok, sends.ours.other],
  ]));
  console.log(`ratio MessageAPI / bare route: ${fmt(sends.ours.rps / sends.baseline.rps, 2)} (target >= 0.5); p99 ${fmt(sends.ours.p99, 1)} ms (target <= 25)`);
  console.log(`durability: ${sends.stored} messages on disk for ${sends.ours.ok} accepted in the measured run (plus warm-up and the profiled run)`);
  console.log(`bare route: ${fmt(sends.baseline.cpuPerRequest)} µs of server CPU per request`);
  printBreakdown(sends.breakdown);
  console.log('');
}

export function printPostgresSends(result) {
  if (result.skipped) {
    console.log(`4. PostgreSQL: skipped — ${result.skipped}\n`);
    return;
  }
  console.log('4. POST /api/v1/send on PostgreSQL (sandbox, wait=0)');
  console.log(table([
    ['', 'per s', 'p50 ms', 'p99 ms', 'ok', 'other'],
    ['pg: 50 clients, BEGIN + 2 inserts + COMMIT (reference)', fmt(result.reference.rps), fmt(result.reference.p50, 1), fmt(result.reference.p99, 1), '', ''],
    ['MessageAPI send (PostgreSQL)', fmt(result.ours.rps), fmt(result.ours.p50, 1), fmt(result.ours.p99, 1), result.ours.ok, result.ours.other],
  ]));
  console.log(`ratio MessageAPI / pg reference: ${fmt(result.ours.rps / result.reference.rps, 2)} (target >= 0.5); p99 ${fmt(result.ours.p99, 1)} ms (target <= 50)`);
  printBreakdown(result.breakdown);
  console.log('');
}
