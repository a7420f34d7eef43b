// Issue 18: accepted sends/s with 1, 2 and 3 `messageapi serve` processes on one PostgreSQL (as
// ratios to one), the CPU each process and PostgreSQL's backends used, and failover time (SIGKILL
// of a session's holder → first send of that session from the new holder), median of several.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { cli, fmt, startServer, table } from './lib.mjs';

const ACCOUNTS = 6;
/** USER_HZ: /proc counts CPU time in these ticks on Linux. */
const TICKS = 100;

/** CPU seconds (user + system) a process has used so far, from /proc. */
function cpuSeconds(pid) {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return 0;
  }
}

async function withDatabase(pgUrl, fn) {
  const name = `messageapi_scale_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(pgUrl);
  url.pathname = `/${name}`;
  try {
    return await fn(url.toString(), name, admin);
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

function accounts(env) {
  return Array.from({ length: ACCOUNTS }, (_, n) => JSON.parse(cli(['accounts', 'create', '--email', `scale${n}@example.com`, '--plan', 'unlimited', '--json'], env)).apiKey);
}

async function waitFor(check, limitMs = 120_000) {
  const from = Date.now();
  while (!(await check())) {
    if (Date.now() - from > limitMs) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
  return Date.now() - from;
}

function load(url, keys, connections, duration) {
  let i = 0;
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: `${url}/api/v1/send`,
        method: 'POST',
        connections,
        duration,
        requests: [
          {
            setupRequest(req) {
              const n = i++;
              return { ...req, headers: { 'content-type': 'application/json', 'x-api-key': keys[n % keys.length] }, body: JSON.stringify({ recipient: `4479${String(100_000 + (n % 800_000))}2`, text: `scale ${n}`, wait: 0 }) };
            },
          },
        ],
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
  });
}

async function throughput(pgUrl, baseEnv, processes, duration) {
  return withDatabase(pgUrl, async (dbUrl, dbName, admin) => {
    const env = { ...baseEnv, DATABASE_URL: dbUrl, DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'messageapi-bench-scale-')) };
    const keys = accounts(env);
    const servers = [];
    for (let i = 0; i < processes; i++) servers.push(await startServer(env));
    const db = new pg.Client({ connectionString: dbUrl });
    await db.connect();
    try {
      // Spread first: every process holds its share.
      await waitFor(async () => {
        const { rows } = await db.query('SELECT owner, count(*)::int AS n FROM wa_session_leases WHERE expires_at >= $1 GROUP BY owner', [Date.now()]);
        return rows.length === processes && rows.reduce((a, r) => a + r.n, 0) === ACCOUNTS;
      });
      const connections = Math.max(1, Math.round(50 / processes));
      await Promise.all(servers.map((s) => load(s.url, keys, connections, 2)));
      const backends = (await admin.query('SELECT pid FROM pg_stat_activity WHERE datname = $1', [dbName])).rows.map((r) => r.pid);
      const cpuBefore = servers.map((s) => cpuSeconds(s.child.pid));
      const pgBefore = backends.reduce((a, pid) => a + cpuSeconds(pid), 0);
      const started = Date.now();
      const results = await Promise.all(servers.map((s) => load(s.url, keys, connections, duration)));
      const elapsed = (Date.now() - started) / 1000;
      const cpu = servers.map((s, i) => (cpuSeconds(s.child.pid) - cpuBefore[i]) / elapsed);
      const pgCpu = (backends.reduce((a, pid) => a + cpuSeconds(pid), 0) - pgBefore) / elapsed;
      const accepted = results.reduce((a, r) => a + r['2xx'], 0);
      return { processes, rate: accepted / elapsed, cpu, pgCpu, errors: results.reduce((a, r) => a + r.non2xx + r.errors + r.timeouts, 0) };
    } finally {
      await db.end();
      for (const s of servers) await s.stop();
    }
  });
}

async function failover(pgUrl, baseEnv, runs) {
  return withDatabase(pgUrl, async (dbUrl) => {
    const env = { ...baseEnv, DATABASE_URL: dbUrl, DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'messageapi-bench-failover-')) };
    const keys = accounts(env);
    const db = new pg.Client({ connectionString: dbUrl });
    await db.connect();
    const times = [];
    const servers = [await startServer(env), await startServer(env)];
    try {
      for (let run = 0; run < runs; run++) {
        await waitFor(async () => {
          const { rows } = await db.query('SELECT count(DISTINCT owner)::int AS owners, count(*)::int AS n FROM wa_session_leases WHERE expires_at >= $1', [Date.now()]);
          return rows[0].owners === 2 && rows[0].n === ACCOUNTS;
        });
        const ids = new Map();
        for (const s of servers) ids.set(s, (await (await fetch(`${s.url}/readyz`)).json()).leases.process);
        // The first account's holder dies; a message for every account goes to the other process.
        const { rows: held } = await db.query('SELECT account_id, owner FROM wa_session_leases WHERE expires_at >= $1 ORDER BY account_id', [Date.now()]);
        const victimId = held[0].owner;
        const victim = servers.find((s) => ids.get(s) === victimId);
        const survivor = servers.find((s) => s !== victim);
        const survivorId = ids.get(survivor);
        const killAt = Date.now();
        victim.child.kill('SIGKILL');
        const heldByVictim = held.filter((h) => h.owner === victimId).map((h) => h.account_id);
        for (const key of keys) {
          await fetch(`${survivor.url}/api/v1/send`, { method: 'POST', headers: { 'x-api-key': key, 'content-type': 'application/json' }, body: JSON.stringify({ recipient: '447911123452', text: `failover ${run}`, wait: 0 }) });
        }
        await waitFor(async () => {
          const { rows } = await db.query('SELECT 1 FROM sandbox_sends WHERE sent_by = $1 AND account_id = ANY($2) AND at >= $3 LIMIT 1', [survivorId, heldByVictim, killAt]);
          return rows.length > 0;
        });
        times.push(Date.now() - killAt);
        servers.splice(servers.indexOf(victim), 1, await startServer(env));
      }
    } finally {
      await db.end();
      for (const s of servers) await s.stop();
    }
    times.sort((a, b) => a - b);
    return { times, median: times[Math.floor(times.length / 2)] };
  });
}

export async function throughputOnly(pgUrl, baseEnv, n, duration) {
  return throughput(pgUrl, baseEnv, n, duration);
}

export async function benchScaleOut(pgUrl, baseEnv, duration) {
  const rows = [];
  for (const n of [1, 2, 3]) rows.push(await throughput(pgUrl, baseEnv, n, duration));
  const runs = Number(process.env.BENCH_FAILOVER_RUNS ?? 3);
  const fail = runs > 0 ? await failover(pgUrl, baseEnv, runs) : null;
  return { rows, failover: fail, runs };
}

export function printScaleOut(result) {
  const one = result.rows[0].rate;
  console.log(
    table([
      ['processes', 'accepted sends/s', 'ratio to 1', 'CPU per process (cores)', 'PostgreSQL backends CPU (cores)', 'errors'],
      ...result.rows.map((r) => [r.processes, fmt(r.rate), fmt(r.rate / one, 2), r.cpu.map((c) => fmt(c, 2)).join(' / '), fmt(r.pgCpu, 2), r.errors]),
    ]),
  );
  console.log(`(${os.cpus().length} cores on this machine: every process and PostgreSQL share them, so the ratio is bounded by the cores, not by the design)`);
  if (!result.failover) return console.log('failover: skipped (BENCH_FAILOVER_RUNS=0)\n');
  console.log(`failover (SIGKILL of a session's holder → first send of that session from the other process), default SESSION_LEASE_MS/RENEW_MS: median ${fmt(result.failover.median / 1000, 1)} s over ${result.runs} runs (${result.failover.times.map((t) => fmt(t / 1000, 1)).join(', ')} s)\n`);
}
