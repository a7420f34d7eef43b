// Issue 12 point 3: does a flood of bogus sign-ins stall sends? Send p99 while 200 bogus sign-ins
// are kept in flight ÷ send p99 at rest, in one run (target <= 2).
//
// Three processes, as in life: the server; the attacker (another machine in life), which keeps
// `concurrency` sign-ins in flight for the whole window, each with a random e-mail and password,
// a new one sent the moment one is answered; and the client whose sends are timed, one send every
// PROBE_EVERY_MS. This process only starts them and prints. The flood is in full swing (all its
// sign-ins sent, answers coming back) before the timed window opens, and runs until it closes.
//
// Variants, each measured in the same run against the same server:
// - from their own addresses: the server trusts the loopback proxy (TRUST_PROXY=127.0.0.1) and each
//   sign-in carries a random X-Forwarded-For, so neither the per-address nor the per-e-mail
//   throttle can refuse it: every one wants a password hash (the main figure);
// - from one address (control): the per-address throttle locks after the free tries, and the rest
//   of the flood is refused without hashing;
// - 8 kept in flight (control): just enough to keep the hashing workers busy all the time.
//
// Run alone: `npm run build && node bench/signin-flood.mjs`; or as section 6 of `npm run bench`.
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAccount, fmt, startServer, table } from './lib.mjs';

const SELF = fileURLToPath(import.meta.url);
const SECONDS = Number(process.env.BENCH_FLOOD_SECONDS ?? 8);
const FLOOD = Number(process.env.BENCH_FLOOD_CONCURRENCY ?? 200);
const BUSY = 8;
const PROBE_EVERY_MS = 10;

const randomAddress = () => {
  const b = randomBytes(3);
  return `10.${b[0]}.${b[1]}.${b[2]}`;
};

/**
 * The attacker: `concurrency` loops, each sending its next sign-in the moment the last is answered,
 * until told to stop on stdin. Prints, as one JSON line, the answers it got while it ran.
 */
async function flood(url, concurrency, forwarded) {
  const statuses = {};
  let stopping = false;
  let answered = 0;
  const started = performance.now();
  process.stdin.on('data', () => (stopping = true));
  process.stdin.on('end', () => (stopping = true));
  let readyAt;
  let answeredAtReady = 0;
  const loop = async () => {
    while (!stopping) {
      try {
        const res = await fetch(`${url}/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(forwarded ? { 'x-forwarded-for': randomAddress() } : {}) },
          body: JSON.stringify({ email: `${randomUUID()}@example.com`, password: randomBytes(12).toString('base64url') }),
        });
        await res.arrayBuffer();
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      } catch {
        statuses.error = (statuses.error ?? 0) + 1;
      }
      answered++;
      // All `concurrency` were sent at once and answers are coming back: the flood is in full swing.
      if (readyAt === undefined) {
        readyAt = performance.now();
        answeredAtReady = answered;
        process.stdout.write('ready\n');
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  const ended = performance.now();
  process.stdout.write(`${JSON.stringify({ statuses, perSecond: (answered - answeredAtReady) / ((ended - readyAt) / 1000), warmUpMs: readyAt - started, seconds: (ended - started) / 1000 })}\n`);
}

/** The timed client: one send every PROBE_EVERY_MS for `seconds`, each one timed from request to answer. */
async function probe(url, apiKey, seconds) {
  const latencies = [];
  const deadline = performance.now() + seconds * 1000;
  let failed = 0;
  while (performance.now() < deadline) {
    const started = performance.now();
    try {
      const res = await fetch(`${url}/api/v1/send`, {
        method: 'POST',
        headers: { 'x-api-key': apiKey, 'content-type': 'application/json' },
        body: JSON.stringify({ recipient: '12125551234', text: 'probe', wait: 0 }),
      });
      await res.arrayBuffer();
      if (res.status !== 200) failed++;
    } catch {
      failed++;
    }
    latencies.push(performance.now() - started);
    await new Promise((r) => setTimeout(r, PROBE_EVERY_MS));
  }
  latencies.sort((a, b) => a - b);
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  process.stdout.write(`${JSON.stringify({ n: latencies.length, p50: at(0.5), p99: at(0.99), max: latencies[latencies.length - 1], failed })}\n`);
}

/**
 * The control for the machine itself: a bare HTTP server, in a process of its own, that answers
 * every request with a 503 paced as ours paces refused sign-ins (its RefusalDelay, with the
 * server's defaults) — what the flood gets from ours, at about the same rate, for almost no work.
 * Sends timed on our server while the attacker floods this one show what the attacker's and the
 * decoy's load on the shared cores alone does to them.
 */
async function decoy() {
  const { RefusalDelay } = await import('../dist/http/dashboard/refusal-delay.js');
  const { loadConfig } = await import('../dist/config.js');
  const delay = new RefusalDelay(loadConfig({}).signinRefusal);
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', async () => {
      await delay.wait();
      res.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'retry-after': '1' });
      res.end('{"success":false,"error":"busy","code":"service_unavailable"}');
    });
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`http://127.0.0.1:${server.address().port}\n`));
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}

/** Runs this file as a client process; resolves with its JSON lines as they come. */
function client(args) {
  const child = spawn(process.execPath, [SELF, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = [];
  const waiters = [];
  let buffer = '';
  child.stdout.on('data', (d) => {
    buffer += d;
    let nl;
    while ((nl = buffer.indexOf('\n')) !== -1) {
      lines.push(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
      waiters.shift()?.();
    }
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const nextLine = async () => {
    while (lines.length === 0) {
      const more = new Promise((resolve) => waiters.push(resolve));
      if ((await Promise.race([more.then(() => false), exited.then(() => true)])) && lines.length === 0) throw new Error(`client ${args[0]} exited early`);
    }
    return lines.shift();
  };
  return { child, nextLine, exited };
}

/** CPU seconds a process (all its threads) and its main thread (the event loop) have used, from /proc (Linux). */
function cpuOf(pid) {
  const ticks = (file) => {
    try {
      const fields = fs.readFileSync(file, 'utf8').replace(/^.*\) /s, '').split(' ');
      return (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      return NaN;
    }
  };
  return { process: ticks(`/proc/${pid}/stat`), loop: ticks(`/proc/${pid}/task/${pid}/stat`) };
}

let serverPid;

/** Times sends for `seconds`; also how busy the server was meanwhile (share of one core, event loop and whole process). */
async function probeSends(url, apiKey, seconds) {
  const before = cpuOf(serverPid);
  const started = performance.now();
  const p = client(['--probe', url, apiKey, String(seconds)]);
  const result = JSON.parse(await p.nextLine());
  const elapsed = (performance.now() - started) / 1000;
  const after = cpuOf(serverPid);
  await p.exited;
  return { ...result, loopCpu: (after.loop - before.loop) / elapsed, processCpu: (after.process - before.process) / elapsed };
}

/** Sends timed on `url` while an attacker process keeps `concurrency` sign-ins in flight at `target`, from start to end of the window. */
async function probeDuringFlood(url, apiKey, concurrency, forwarded, target = url) {
  const attacker = client(['--flood', target, String(concurrency), forwarded ? 'forwarded' : 'one-address']);
  if ((await attacker.nextLine()) !== 'ready') throw new Error('the attacker did not start');
  const sends = await probeSends(url, apiKey, SECONDS);
  attacker.child.stdin.end();
  const flooded = JSON.parse(await attacker.nextLine());
  await attacker.exited;
  return { sends, ...flooded };
}

export async function benchSigninFlood() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'messageapi-bench-flood-'));
  const env = { WHATSAPP_DRIVER: 'sandbox', LOG_LEVEL: 'warn', MESSAGEAPI_SECRET: 'bench-secret-bench-secret-bench', DATA_DIR: dir, TRUST_PROXY: '127.0.0.1' };
  const account = await createAccount(env, 'unlimited');
  const server = await startServer(env);
  serverPid = server.child.pid;
  const decoyServer = client(['--decoy']);
  try {
    await probeSends(server.url, account.apiKey, 1);
    const rest = await probeSends(server.url, account.apiKey, SECONDS);
    const hashing = await probeDuringFlood(server.url, account.apiKey, FLOOD, true);
    const throttled = await probeDuringFlood(server.url, account.apiKey, FLOOD, false);
    const busyWorkers = await probeDuringFlood(server.url, account.apiKey, BUSY, true);
    const elsewhere = await probeDuringFlood(server.url, account.apiKey, FLOOD, true, await decoyServer.nextLine());
    const restAfter = await probeSends(server.url, account.apiKey, SECONDS);
    return { rest, hashing, throttled, busyWorkers, elsewhere, restAfter, ratio: hashing.sends.p99 / rest.p99 };
  } finally {
    decoyServer.child.stdin.end();
    await server.stop();
    await decoyServer.exited;
  }
}

export function printSigninFlood(result) {
  const row = (name, r, flood) => [
    name, r.n, fmt(r.p50, 1), fmt(r.p99, 1), fmt(r.max, 1), r.failed, `${fmt(100 * r.loopCpu)} / ${fmt(100 * r.processCpu)}`,
    flood ? fmt(flood.perSecond) : '-', flood ? Object.entries(flood.statuses).map(([s, n]) => `${n} × ${s}`).join(', ') : '-',
  ];
  console.log(table([
    ['', 'sends', 'p50 ms', 'p99 ms', 'max ms', 'failed', 'server CPU % loop/all', 'sign-ins/s', 'sign-in answers'],
    row('at rest', result.rest),
    row(`${FLOOD} bogus sign-ins in flight, each from its own address`, result.hashing.sends, result.hashing),
    row(`${FLOOD} in flight from one address (throttled)`, result.throttled.sends, result.throttled),
    row(`${BUSY} in flight (hashing workers always busy)`, result.busyWorkers.sends, result.busyWorkers),
    row(`${FLOOD} in flight at a decoy process (the machine's share)`, result.elsewhere.sends, result.elsewhere),
    row('at rest again (drift of the machine)', result.restAfter),
  ]));
  const ratio = (r) => fmt(r.sends.p99 / result.rest.p99, 2);
  console.log(`send p99 flooded (own addresses) / at rest: ${fmt(result.ratio, 2)} (target <= 2); throttled / at rest: ${ratio(result.throttled)}; workers busy / at rest: ${ratio(result.busyWorkers)}; flood at a decoy / at rest: ${ratio(result.elsewhere)}\n`);
}

if (process.argv[2] === '--flood') {
  await flood(process.argv[3], Number(process.argv[4]), process.argv[5] === 'forwarded');
  process.exit(0); // stdin is still open
} else if (process.argv[2] === '--decoy') {
  await decoy();
} else if (process.argv[2] === '--probe') {
  await probe(process.argv[3], process.argv[4], Number(process.argv[5]));
} else if (process.argv[1] === SELF) {
  console.log(`Sign-in flood — ${os.cpus().length} cores, Node ${process.version}, ${SECONDS} s per phase, one send every ${PROBE_EVERY_MS} ms\n`);
  const result = await benchSigninFlood();
  printSigninFlood(result);
  if (process.env.BENCH_JSON) fs.writeFileSync(process.env.BENCH_JSON, JSON.stringify(result));
}
