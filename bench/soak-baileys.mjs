// Soak of the real Baileys driver (issue 6, point 4): one `messageapi serve` process
// (WHATSAPP_DRIVER=baileys, SQLite in a temp DATA_DIR) with SOAK_SESSIONS linked sessions against a
// local WhatsApp Web test server (@openclaw/crabline), for SOAK_MINUTES of bursts of text sends and
// injected inbound messages, with two forced reconnects (the test server killed and restarted).
//   npm run build && node bench/soak-baileys.mjs   (SOAK_SESSIONS=50 SOAK_MINUTES=10)
// Loopback only. Stops by itself; the gateway child and the temp dir are removed on every exit path.
//
// One test server serves every session: the gateway has one WHATSAPP_WS_URL, and crabline does not
// check which number a connecting client is (its selfJid only names the account in <success>), so
// N sessions with N different linked numbers all connect to it. An injected inbound message is
// delivered by crabline to every open session, so each injection must reach every account once.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { startWhatsAppServer } from '@openclaw/crabline';
import { initAuthCreds, proto } from 'baileys';
import { createAccount } from '../dist/core/accounts.js';
import { Store } from '../dist/store/store.js';
import { AuthStateStore } from '../dist/whatsapp/baileys/auth-state-store.js';
import { freePort, ROOT, table, fmt } from './lib.mjs';

const SESSIONS = Number(process.env.SOAK_SESSIONS ?? 50);
const MINUTES = Number(process.env.SOAK_MINUTES ?? 10);
const BURST_EVERY_MS = Number(process.env.SOAK_BURST_EVERY_MS ?? 20_000);
const SENDS_PER_BURST = Number(process.env.SOAK_SENDS_PER_BURST ?? SESSIONS * 4);
const INBOUND_PER_BURST = Number(process.env.SOAK_INBOUND_PER_BURST ?? 2);
const DOWN_MS = Number(process.env.SOAK_DOWN_MS ?? 5_000);
const IDLE_WINDOW_MS = 5_000;
const HARD_LIMIT_MS = (MINUTES + 10) * 60_000; // bounded whatever happens
if (!(SESSIONS >= 1 && SESSIONS <= 200) || !(MINUTES > 0 && MINUTES <= 60)) throw new Error('SOAK_SESSIONS must be 1–200 and SOAK_MINUTES 0–60');

const SECRET = 'soak-baileys-bench-secret-0123456789';
const SELF_JID = '15550000001@s.whatsapp.net';
const ACCESS_TOKEN = 'EAAE2Ebaileys0soak0access0token0fixed';
const BIN = path.join(ROOT, 'bin/messageapi.js');
const RUN = Date.now().toString(36).toUpperCase();
const TICK = 100; // USER_HZ on Linux
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const phone = (i) => String(15550001000 + i); // the linked number of session i
const peer = (i) => String(12125550000 + i); // its recipient (one peer each: crabline caps signal sessions per peer bundle)
const log = (...a) => console.log(new Date().toISOString().slice(11, 19), ...a);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'messageapi-soak-'));
const dbUrl = `sqlite:${path.join(dir, 'messageapi.db')}`;
let gateway;
let whatsapp;
let receiver;
let reads;
let cleaned = false;
async function cleanup() {
  if (cleaned) return;
  cleaned = true;
  if (gateway && gateway.exitCode === null) {
    const exited = new Promise((r) => gateway.once('exit', r));
    gateway.kill('SIGTERM');
    await Promise.race([exited, sleep(15_000)]);
    if (gateway.exitCode === null) gateway.kill('SIGKILL');
  }
  await whatsapp?.close().catch(() => {});
  await reads?.close().catch(() => {});
  receiver?.closeAllConnections?.();
  receiver?.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => void cleanup().then(() => process.exit(130)));
const hardStop = setTimeout(() => {
  console.error(`soak exceeded ${HARD_LIMIT_MS / 60_000} minutes, stopping`);
  void cleanup().then(() => process.exit(2));
}, HARD_LIMIT_MS);
hardStop.unref();

// ---- the test server, in this process ----------------------------------------------------------
const relayed = new Map(); // wa message id → times a <message> node with it reached the test server
const acceptedAtServer = new Map(); // text → wa message ids of the copies the test server accepted (and acked)
let strayAccepted = 0;
let whatsappPort;
let serverUp = false;
async function startWhatsApp() {
  whatsapp = await startWhatsAppServer({
    selfJid: SELF_JID,
    host: '127.0.0.1',
    port: whatsappPort,
    accessToken: ACCESS_TOKEN, // fixed, so the gateway's URL still works after a restart
    recorderPath: path.join(dir, 'crabline.jsonl'),
    onEvent: (event) => {
      const body = event?.body;
      if (body?.tag === 'message' && body.attrs?.id) relayed.set(body.attrs.id, (relayed.get(body.attrs.id) ?? 0) + 1);
      if (event?.accepted && body?.key?.fromMe && body.key.id) {
        const text = body.message?.conversation;
        if (text === undefined) strayAccepted++;
        else acceptedAtServer.set(text, [...(acceptedAtServer.get(text) ?? []), body.key.id]);
      }
    },
  });
  serverUp = true;
}
async function stopWhatsApp() {
  serverUp = false;
  await whatsapp.close();
  whatsapp = undefined;
}

// ---- the webhook receiver: counts events per account ---------------------------------------------
const received = new Map(); // `${session}|${text}` → count   (message.received)
const sentEvents = new Map(); // messageId → count               (message.sent)
let otherEvents = 0;
receiver = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const session = req.url.split('/').pop();
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString());
      if (body.event === 'message.received') received.set(`${session}|${body.message.text}`, (received.get(`${session}|${body.message.text}`) ?? 0) + 1);
      else if (body.event === 'message.sent') sentEvents.set(body.message.id, (sentEvents.get(body.message.id) ?? 0) + 1);
      else otherEvents++;
    } catch {
      otherEvents++;
    }
    res.writeHead(200).end('ok');
  });
});
receiver.keepAliveTimeout = 30_000;

// ---- the gateway process -----------------------------------------------------------------------
let outputTail = [];
const stray = { lines: 0, keyLines: 0, first: '' }; // gateway output that did not come through the logger
let base;
function env() {
  const e = {
    ...process.env,
    DATA_DIR: dir,
    DATABASE_URL: dbUrl,
    MESSAGEAPI_SECRET: SECRET,
    WHATSAPP_DRIVER: 'baileys',
    WHATSAPP_WS_URL: whatsapp.manifest.endpoints.baileysWebSocketUrl, // fixed port and token: stays valid across restarts
    WHATSAPP_PACING_MIN_MS: '0',
    WHATSAPP_PACING_MAX_MS: '0',
    ALLOW_PRIVATE_URLS: 'true',
    LOG_LEVEL: 'warn',
  };
  delete e.NODE_ENV;
  return e;
}
async function startGateway(port) {
  base = `http://127.0.0.1:${port}`;
  gateway = spawn(process.execPath, [BIN, 'serve', '--port', String(port), '--host', '127.0.0.1'], { cwd: ROOT, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (chunk) => {
    const lines = chunk.toString().split('\n').filter(Boolean);
    for (const line of lines) {
      if (line.startsWith('{')) continue;
      stray.lines++;
      if (/privKey/.test(line)) stray.keyLines++;
      stray.first ||= line.slice(0, 120);
    }
    outputTail.push(...lines);
    if (outputTail.length > 200) outputTail = outputTail.slice(-100);
  };
  gateway.stdout.on('data', keep);
  gateway.stderr.on('data', keep);
  await until(() => fetch(`${base}/healthz`).then((r) => r.ok), 'the gateway to listen', 30_000);
}

async function stopGateway() {
  const exited = new Promise((r) => gateway.once('exit', r));
  gateway.kill('SIGTERM');
  await Promise.race([exited, sleep(15_000)]);
  if (gateway.exitCode === null) gateway.kill('SIGKILL');
  gateway = undefined;
}

async function until(fn, what, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (gateway && gateway.exitCode !== null) throw new Error(`gateway exited while waiting for ${what}:\n${outputTail.slice(-20).join('\n')}`);
    const value = await fn().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${outputTail.slice(-20).join('\n')}`);
    await sleep(100);
  }
}

/** VmRSS of the gateway in MB. */
const rssMb = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${gateway.pid}/status`, 'utf8'))[1]) / 1024;
/** The gateway's V8 heap in use (MB), from its own /metrics. */
async function heapUsedMb() {
  const text = await (await fetch(`${base}/metrics`)).text();
  return Number(/^nodejs_heap_size_used_bytes (\S+)/m.exec(text)[1]) / 1048576;
}
// RSS swings with garbage collection (a sawtooth of ~100 MB here), so two samples say little: the
// gateway is also sampled every 5 s (not during an idle-CPU window), and the lowest heap in use
// (what survives a collection) is compared between the first and last third of the run.
const samples = []; // { at, rss, heap }
let sampling = false;
let samplerPaused = false;
async function sampler() {
  while (sampling) {
    if (!samplerPaused) samples.push({ at: Date.now(), rss: rssMb(), heap: await heapUsedMb().catch(() => NaN) });
    await sleep(5_000);
  }
}

/** utime+stime of the gateway in seconds. */
function cpuSeconds() {
  const stat = fs.readFileSync(`/proc/${gateway.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICK;
}

// ---- setup -------------------------------------------------------------------------------------
function linkedCreds(number) {
  // as test/baileys/fake-socket.ts linkedCreds: a number linked before, creds kept in our store
  const creds = initAuthCreds();
  creds.me = { id: `${number}:7@s.whatsapp.net`, lid: '99887766:7@lid' };
  creds.account = proto.ADVSignedDeviceIdentity.fromObject({ details: Buffer.from('details'), accountSignatureKey: Buffer.alloc(32, 1) });
  creds.registered = true;
  return creds;
}

const accounts = []; // { id, apiKey, index }
const api = (account, method, url, body) =>
  fetch(`${base}${url}`, { method, headers: { 'X-API-Key': account.apiKey, ...(body ? { 'Content-Type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
async function connectedCount() {
  const states = await Promise.all(accounts.map((a) => api(a, 'GET', '/api/v1/session').then((r) => r.json()).then((s) => s.state).catch(() => 'error')));
  return states.filter((s) => s === 'connected').length;
}
async function allConnected(timeoutMs) {
  const started = Date.now();
  await until(async () => (await connectedCount()) === SESSIONS, `all ${SESSIONS} sessions connected`, timeoutMs);
  return Date.now() - started;
}

// ---- traffic -----------------------------------------------------------------------------------
const accepted = []; // messageIds answered 200 (accepted for sending)
const textOf = new Map(); // messageId → its text (each text is unique)
let rejected = 0; // sends answered otherwise (e.g. 400 not_connected while the server is down)
const injected = []; // texts injected while every session was connected
let sendSeq = 0;
let injectSeq = 0;
const rates = [];
const burstCpu = []; // { gateway, server }: % of one core while a burst goes through
const idleCpu = [];

async function sendBurst(count) {
  const ids = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: count }, async (_, k) => {
      const account = accounts[k % SESSIONS];
      const text = `soak ${++sendSeq}`;
      const res = await api(account, 'POST', '/api/v1/send?wait=0', { recipient: peer(account.index), text }).catch(() => undefined);
      if (res?.status === 200) {
        const { messageId } = await res.json();
        textOf.set(messageId, text);
        ids.push(messageId);
        accepted.push(messageId);
      } else {
        rejected++;
        await res?.body?.cancel();
      }
    }),
  );
  return { ids, started };
}

async function sentCount(ids) {
  let sent = 0;
  for (let i = 0; i < ids.length; i += 500) {
    const row = await reads.db.selectFrom('messages').select((eb) => eb.fn.countAll().as('n')).where('id', 'in', ids.slice(i, i + 500)).where('status', '=', 'sent').executeTakeFirst();
    sent += Number(row.n);
  }
  return sent;
}

async function inject() {
  const text = `inbound ${++injectSeq} ${Math.random().toString(36).slice(2, 8)}`;
  const res = await fetch(whatsapp.manifest.endpoints.adminInboundUrl, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Crabline-Admin-Token': whatsapp.manifest.adminToken },
    // our own id: crabline numbers its ids from 0 again after a restart, and the gateway rightly
    // drops an inbound message whose WhatsApp id it has already received
    body: JSON.stringify({ chatJid: `${peer(0)}@s.whatsapp.net`, senderJid: `${peer(0)}@s.whatsapp.net`, pushName: 'Soak', text, messageId: `SOAK${RUN}${String(injectSeq).padStart(6, '0')}` }),
  });
  await res.body?.cancel();
  if (res.status !== 200) throw new Error(`inbound injection answered ${res.status}`);
  injected.push(text);
}
const receivedTotal = () => [...received.values()].reduce((a, b) => a + b, 0);

/** One burst: sends across the accounts, inbound messages, then wait until all of it is through. */
async function burst(label) {
  const want = receivedTotal() + INBOUND_PER_BURST * SESSIONS;
  const allUp = (await connectedCount()) === SESSIONS;
  const cpu0 = { gateway: cpuSeconds(), server: process.cpuUsage() };
  const injecting = allUp ? Promise.all(Array.from({ length: INBOUND_PER_BURST }, inject)) : Promise.resolve();
  const { ids, started } = await sendBurst(SENDS_PER_BURST);
  await injecting;
  await until(async () => (await sentCount(ids)) === ids.length, `${label}: ${ids.length} sends`, 120_000);
  const elapsed = (performance.now() - started) / 1000;
  rates.push(ids.length / elapsed);
  const server = process.cpuUsage(cpu0.server);
  burstCpu.push({ gateway: ((cpuSeconds() - cpu0.gateway) / elapsed) * 100, server: ((server.user + server.system) / 1e6 / elapsed) * 100 });
  if (allUp) await until(async () => receivedTotal() >= want, `${label}: inbound webhooks`, 60_000);
  log(`${label}: ${ids.length} sent in ${fmt(elapsed, 2)} s (${fmt(ids.length / elapsed)}/s)${allUp ? `, ${INBOUND_PER_BURST}×${SESSIONS} inbound delivered` : ', inbound skipped (not all connected)'}`);
}

async function measureIdleCpu() {
  samplerPaused = true;
  await sleep(1_000); // let the webhook outbox and the last acks settle
  const cpu0 = cpuSeconds();
  const t0 = performance.now();
  await sleep(IDLE_WINDOW_MS);
  const pct = ((cpuSeconds() - cpu0) / ((performance.now() - t0) / 1000)) * 100;
  idleCpu.push(pct);
  samplerPaused = false;
  return pct;
}

const reconnects = [];
async function forcedReconnect(n) {
  // messages accepted just before the drop, some of them still in the socket or the queue
  // a burst in flight when the server goes: some sent, some in the socket, some still queued
  const inFlight = sendBurst(SENDS_PER_BURST);
  await sleep(300);
  await stopWhatsApp();
  const { ids } = await inFlight;
  log(`reconnect ${n}: test server stopped with ${ids.length - (await sentCount(ids))} of ${ids.length} accepted messages not yet sent`);
  await until(async () => (await connectedCount()) === 0, 'every session to notice the drop', 60_000);
  await sleep(DOWN_MS);
  const before = rejected;
  await sendBurst(Math.min(SESSIONS, 10)); // refused while down: nothing accepted that cannot be sent
  const refusedWhileDown = rejected - before;
  const t0 = performance.now();
  await startWhatsApp();
  let firstMs;
  await until(async () => {
    const up = await connectedCount();
    if (up > 0) firstMs ??= performance.now() - t0;
    return up === SESSIONS;
  }, `all sessions back after reconnect ${n}`, 180_000);
  const ms = performance.now() - t0;
  reconnects.push({ ms, firstMs });
  await until(async () => (await sentCount(ids)) === ids.length, `messages pending at reconnect ${n}`, 120_000);
  log(`reconnect ${n}: all ${SESSIONS} connected ${fmt(ms / 1000, 1)} s after the restart (the first ${fmt(firstMs / 1000, 1)} s); ${refusedWhileDown} sends refused while down; pending sent`);
}

// ---- run ---------------------------------------------------------------------------------------
async function main() {
  whatsappPort = await freePort();
  await startWhatsApp();
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  const hook = `http://127.0.0.1:${receiver.address().port}/hook`;

  const migrate = spawnSync(process.execPath, [BIN, 'migrate'], { cwd: ROOT, env: env(), encoding: 'utf8' });
  if (migrate.status !== 0) throw new Error(`migrate failed: ${migrate.stderr}`);
  const seed = Store.open(dbUrl);
  const auth = new AuthStateStore(seed, SECRET);
  for (let i = 0; i < SESSIONS; i++) {
    const account = await createAccount(seed, { email: `soak-${i}@example.com`, plan: 'unlimited' }, Date.now());
    accounts.push({ id: account.id, apiKey: account.apiKey, index: i });
    // crabline has no contact lookup: the "on WhatsApp" answer is seeded as if asked before
    await seed.write((tx) => tx.insertInto('wa_recipients').values({ account_id: account.id, phone: peer(i), jid: `${peer(i)}@s.whatsapp.net`, checked_at: Date.now() }).execute());
  }
  // the same gateway with no linked session, for the memory a session adds
  await startGateway(await freePort());
  await sleep(5_000);
  const rssEmpty = rssMb();
  await stopGateway();
  for (const account of accounts) await auth.saveCreds(account.id, linkedCreds(phone(account.index)));
  await seed.close();
  reads = Store.open(dbUrl);
  log(`gateway with no session: ${fmt(rssEmpty, 1)} MB`);

  const t0 = performance.now();
  await startGateway(await freePort());
  for (const a of accounts) {
    const res = await api(a, 'PATCH', '/api/v1/settings', { webhookUrl: `${hook}/${a.index}` });
    if (res.status !== 200) throw new Error(`settings: ${res.status} ${await res.text()}`);
  }
  await allConnected(120_000);
  const startupS = (performance.now() - t0) / 1000;
  log(`${SESSIONS} sessions connected ${fmt(startupS, 1)} s after the gateway started`);

  // warm-up: two bursts, then the first memory sample
  await burst('warm-up 1');
  await burst('warm-up 2');
  rates.length = 0;
  burstCpu.length = 0;
  await measureIdleCpu();
  idleCpu.length = 0;
  const rssWarm = rssMb();
  log(`RSS after warm-up: ${fmt(rssWarm, 1)} MB`);

  const runMs = MINUTES * 60_000;
  const runStart = Date.now();
  sampling = true;
  const sampled = sampler();
  const reconnectAt = [runStart + runMs / 3, runStart + (2 * runMs) / 3];
  let n = 0;
  while (Date.now() - runStart < runMs) {
    const next = Date.now() + BURST_EVERY_MS;
    if (reconnectAt.length > 0 && Date.now() >= reconnectAt[0]) {
      reconnectAt.shift();
      await forcedReconnect(reconnects.length + 1);
    }
    await burst(`burst ${++n}`);
    const pct = await measureIdleCpu();
    log(`  idle CPU ${fmt(pct, 1)} %, RSS ${fmt(rssMb(), 1)} MB`);
    await sleep(Math.max(0, Math.min(next, runStart + runMs) - Date.now()));
  }
  while (reconnectAt.length > 0) {
    reconnectAt.shift();
    await forcedReconnect(reconnects.length + 1);
  }
  const rssEnd = rssMb();
  sampling = false;
  await sampled;
  const third = (from, to) => samples.filter((x) => x.at >= runStart + from * runMs && x.at < runStart + to * runMs);
  const [first, last] = [third(0, 1 / 3), third(2 / 3, 2)];
  const floor = (xs) => Math.min(...xs.map((x) => x.heap).filter((h) => !Number.isNaN(h)));
  const medianRss = (xs) => median(xs.map((x) => x.rss));

  function median(xs) {
    return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  }
  // ---- verification ----------------------------------------------------------------------------
  await sleep(2_000);
  const problems = [];
  const statuses = await reads.db.selectFrom('messages').select(['status']).select((eb) => eb.fn.countAll().as('n')).groupBy('status').execute();
  const byStatus = Object.fromEntries(statuses.map((s) => [s.status, Number(s.n)]));
  const total = Object.values(byStatus).reduce((a, b) => a + b, 0);
  if (total !== accepted.length) problems.push(`messages table has ${total} rows for ${accepted.length} accepted sends`);
  if (byStatus.sent !== total) problems.push(`messages not all sent: ${JSON.stringify(byStatus)}`);
  const waIds = new Map();
  for (let i = 0; i < accepted.length; i += 500) {
    const rows = await reads.db.selectFrom('messages').select(['id', 'wa_message_id']).where('id', 'in', accepted.slice(i, i + 500)).execute();
    for (const r of rows) waIds.set(r.id, r.wa_message_id);
  }
  // Lost: no copy under its WhatsApp id reached the server. Duplicated: the server accepted its text
  // under another id (a second message for the recipient), or the same id twice within one server
  // run. A copy sent again under the same id after a drop (the ack lost with the connection) is
  // what WhatsApp deduplicates by id: counted apart, as "re-sent under the same id".
  let missing = 0;
  let duplicated = 0;
  let resentSameId = 0;
  let ackLost = 0; // of those, the server had accepted the first copy: only the ack was lost
  const waIdSet = new Set(waIds.values());
  for (const id of accepted) {
    const waId = waIds.get(id);
    const copies = acceptedAtServer.get(textOf.get(id)) ?? [];
    if (!relayed.get(waId) || !copies.includes(waId)) missing++;
    if (copies.some((c) => c !== waId)) duplicated++;
    if ((relayed.get(waId) ?? 0) > 1) resentSameId++;
    if (copies.filter((c) => c === waId).length > 1) ackLost++;
  }
  const strayIds = [...relayed.keys()].filter((id) => !waIdSet.has(id)).length;
  if (missing) problems.push(`${missing} accepted messages never accepted by the test server`);
  if (duplicated) problems.push(`${duplicated} accepted messages reached the test server under a second WhatsApp id`);
  if (strayIds || strayAccepted) problems.push(`${strayIds + strayAccepted} messages at the test server that were never accepted by the gateway`);
  const sentHooks = accepted.filter((id) => sentEvents.get(id) !== 1).length;
  if (sentHooks) problems.push(`${sentHooks} accepted messages without exactly one message.sent webhook`);
  let inboundWrong = 0;
  for (const text of injected) for (let i = 0; i < SESSIONS; i++) if (received.get(`${i}|${text}`) !== 1) inboundWrong++;
  if (inboundWrong) problems.push(`${inboundWrong} (injection, account) pairs without exactly one message.received webhook`);
  const strays = receivedTotal() - injected.length * SESSIONS;
  if (strays) problems.push(`${strays} message.received webhooks beyond the injected messages`);

  console.log(`\nSoak: ${SESSIONS} Baileys sessions, ${MINUTES} min, one gateway (SQLite), one crabline test server, ${os.cpus().length} cores`);
  console.log(
    table([
      ['figure', 'value'],
      ['sessions connected at start', `${SESSIONS} in ${fmt(startupS, 1)} s`],
      ['messages accepted / sent exactly once', `${accepted.length} / ${accepted.length - missing - duplicated} (${rejected} refused while down)`],
      ['  re-sent under the same id after a drop', `${resentSameId} (${ackLost} of them accepted by the server before it went: ack lost)`],
      ['inbound injected → message.received', `${injected.length}×${SESSIONS} → ${receivedTotal()} (${inboundWrong} wrong)`],
      ['RSS, gateway with no session', `${fmt(rssEmpty, 1)} MB`],
      ['RSS after warm-up (total, per session above empty)', `${fmt(rssWarm, 1)} MB, ${fmt((rssWarm - rssEmpty) / SESSIONS, 2)} MB/session`],
      ['RSS at the end (total, per session above empty)', `${fmt(rssEnd, 1)} MB, ${fmt((rssEnd - rssEmpty) / SESSIONS, 2)} MB/session`],
      ['RSS end − after warm-up', `${rssEnd - rssWarm >= 0 ? '+' : ''}${fmt(rssEnd - rssWarm, 1)} MB (${fmt(((rssEnd - rssWarm) / rssWarm) * 100, 1)} %)`],
      ['RSS median, first → last third of the run', `${fmt(medianRss(first), 1)} → ${fmt(medianRss(last), 1)} MB (${fmt((medianRss(last) - rssEmpty) / SESSIONS, 2)} MB/session above empty)`],
      ['live heap (lowest in use), first → last third', `${fmt(floor(first), 1)} → ${fmt(floor(last), 1)} MB (${samples.length} samples)`],
      ['sends/s accepted→sent (median, best burst)', `${fmt(median(rates))}, ${fmt(Math.max(...rates))}`],
      ['CPU while sending: gateway, test server + load', `${fmt(median(burstCpu.map((c) => c.gateway)))} %, ${fmt(median(burstCpu.map((c) => c.server)))} % of one core (median burst)`],
      ['reconnect: restart → first, all connected', reconnects.map((r) => `${fmt(r.firstMs / 1000, 1)} s, ${fmt(r.ms / 1000, 1)} s`).join('; ')],
      ['gateway CPU between bursts (median, max)', `${fmt(median(idleCpu), 1)} %, ${fmt(Math.max(...idleCpu), 1)} % of one core`],
    ]),
  );
  if (stray.lines) console.log(`\nnote: ${stray.lines} gateway output lines bypassed the logger (${stray.keyLines} of them print a privKey), first: ${stray.first}`);
  if (problems.length) {
    console.log(`\nFAILED:\n- ${problems.join('\n- ')}`);
    process.exitCode = 1;
  } else console.log('\nOK: no message lost or duplicated.');
}

try {
  await main();
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  await cleanup();
}
process.exit();
