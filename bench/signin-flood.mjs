// Issue 12 point 3: does a flood of bogus sign-ins stall sends? Send p99 during waves of 200
// simultaneous bogus sign-ins (from 200 addresses a trusted proxy forwards, so that the
// per-address throttle cannot help and every one of them wants a password hash) ÷ send p99 at
// rest, in one run.
// Run alone: `npm run build && node bench/signin-flood.mjs`; or as section 6 of `npm run bench`.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAccount, fmt, startServer, table } from './lib.mjs';

const SELF = fileURLToPath(import.meta.url);
const SECONDS = Number(process.env.BENCH_FLOOD_SECONDS ?? 8);
const FLOOD = Number(process.env.BENCH_FLOOD_CONCURRENCY ?? 200);
const PROBE_EVERY_MS = 10;
const WAVE_PAUSE_MS = 200;

/**
 * The attacker, in a process of its own so that its work does not slow the probe's clock. `waves`:
 * waves of `concurrency` simultaneous bogus sign-ins (the issue's reproduction), the next once the
 * last is answered and a short breath has passed. `steady`: `concurrency` sign-ins kept in flight,
 * each from a new address, which keeps the hashing workers busy at few requests per second.
 */
async function flood(url, seconds, concurrency, { forwarded, mode }) {
  const deadline = Date.now() + seconds * 1000;
  const statuses = {};
  let n = 0;
  let waves = 0;
  const one = async () => {
    const i = n++;
    try {
      const res = await fetch(`${url}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(forwarded ? { 'x-forwarded-for': `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` } : {}) },
        body: JSON.stringify({ email: `nobody-${i}@example.com`, password: `guess number ${i}` }),
      });
      await res.arrayBuffer();
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    } catch {
      statuses.error = (statuses.error ?? 0) + 1;
    }
  };
  if (mode === 'steady') {
    const loop = async () => {
      while (Date.now() < deadline) await one();
    };
    await Promise.all(Array.from({ length: concurrency }, loop));
    return statuses;
  }
  while (Date.now() < deadline) {
    await Promise.all(Array.from({ length: concurrency }, one));
    waves++;
    await new Promise((r) => setTimeout(r, WAVE_PAUSE_MS));
  }
  return { ...statuses, waves };
}

/** One send every PROBE_EVERY_MS (an ordinary client, not a load test), each one timed. */
async function probeSends(url, apiKey, seconds) {
  const latencies = [];
  const deadline = Date.now() + seconds * 1000;
  let failed = 0;
  while (Date.now() < deadline) {
    const started = performance.now();
    const res = await fetch(`${url}/api/v1/send`, {
      method: 'POST',
      headers: { 'x-api-key': apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({ recipient: '12125551234', text: 'probe', wait: 0 }),
    });
    await res.arrayBuffer();
    latencies.push(performance.now() - started);
    if (res.status !== 200) failed++;
    await new Promise((r) => setTimeout(r, PROBE_EVERY_MS));
  }
  latencies.sort((a, b) => a - b);
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  return { n: latencies.length, p50: at(0.5), p99: at(0.99), max: latencies[latencies.length - 1], failed };
}

/** Sends probed while an attacker process floods: from many forwarded addresses (every sign-in wants a hash), or from one (the throttle refuses all but 5). */
async function probeDuringFlood(url, apiKey, concurrency, options) {
  const attacker = spawn(process.execPath, [SELF, '--flood', url, String(SECONDS + 2), String(concurrency), JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  attacker.stdout.on('data', (d) => (out += d));
  const attackerDone = new Promise((resolve) => attacker.once('exit', resolve));
  await new Promise((r) => setTimeout(r, 1000)); // the flood is in full swing before the probe starts
  const sends = await probeSends(url, apiKey, SECONDS);
  await attackerDone;
  return { sends, statuses: JSON.parse(out || '{}') };
}

export async function benchSigninFlood() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'messageapi-bench-flood-'));
  const env = { WHATSAPP_DRIVER: 'sandbox', LOG_LEVEL: 'warn', MESSAGEAPI_SECRET: 'bench-secret-bench-secret-bench', DATA_DIR: dir, TRUST_PROXY: '127.0.0.1' };
  const account = await createAccount(env, 'unlimited');
  const server = await startServer(env);
  try {
    await probeSends(server.url, account.apiKey, 1);
    const rest = await probeSends(server.url, account.apiKey, SECONDS);
    const hashing = await probeDuringFlood(server.url, account.apiKey, FLOOD, { forwarded: true, mode: 'waves' });
    const throttled = await probeDuringFlood(server.url, account.apiKey, FLOOD, { forwarded: false, mode: 'waves' });
    const busyWorkers = await probeDuringFlood(server.url, account.apiKey, 8, { forwarded: true, mode: 'steady' });
    return { rest, hashing, throttled, busyWorkers, ratio: hashing.sends.p99 / rest.p99 };
  } finally {
    await server.stop();
  }
}

export function printSigninFlood(result) {
  const row = (name, r) => [name, r.n, fmt(r.p50, 1), fmt(r.p99, 1), fmt(r.max, 1), r.failed];
  console.log(table([
    ['', 'sends', 'p50 ms', 'p99 ms', 'max ms', 'failed'],
    row('at rest', result.rest),
    row(`waves of ${FLOOD} bogus sign-ins, each from its own address`, result.hashing.sends),
    row(`the same from one address (throttled)`, result.throttled.sends),
    row('8 sign-ins kept in flight (hashing workers always busy)', result.busyWorkers.sends),
  ]));
  for (const [name, flood] of [['own addresses', result.hashing], ['one address', result.throttled], ['8 in flight', result.busyWorkers]]) {
    const { waves, ...statuses } = flood.statuses;
    console.log(`sign-in answers (${name}${waves ? `, ${waves} waves` : ''}): ${Object.entries(statuses).map(([status, n]) => `${n} × ${status}`).join(', ')}`);
  }
  console.log(`send p99 flooded (own addresses) / at rest: ${fmt(result.ratio, 2)} (target <= 2); throttled / at rest: ${fmt(result.throttled.sends.p99 / result.rest.p99, 2)}; workers busy / at rest: ${fmt(result.busyWorkers.sends.p99 / result.rest.p99, 2)}\n`);
}

if (process.argv[2] === '--flood') {
  const statuses = await flood(process.argv[3], Number(process.argv[4]), Number(process.argv[5]), JSON.parse(process.argv[6]));
  process.stdout.write(JSON.stringify(statuses));
} else if (process.argv[1] === SELF) {
  console.log(`Sign-in flood — ${os.cpus().length} cores, Node ${process.version}, ${SECONDS} s per phase, one send every ${PROBE_EVERY_MS} ms\n`);
  printSigninFlood(await benchSigninFlood());
}
