import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/store.js';
import { AuthStateStore } from '../../src/whatsapp/baileys/auth-state-store.js';
import { ensureBuilt } from './ensure-built.js';
import { linkedCreds } from './fake-socket.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../helpers/databases.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SECRET = 'no-network-test-secret-0123456789';
const CLOCK_TICKS = 100; // USER_HZ on Linux


/** CPU seconds (user + system) the process has used so far. */
function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

function cli(env: NodeJS.ProcessEnv, ...args: string[]): string {
  return execFileSync(process.execPath, [path.join(ROOT, 'bin/messageapi.js'), ...args], { cwd: ROOT, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Where the driver dials instead of WhatsApp: a port of ours on loopback that resets every
 * connection at once, as a network that cannot reach WhatsApp does. It is held for the whole test,
 * so nothing else can answer there, and the test means the same on a machine with internet.
 */
async function unreachableWhatsApp(): Promise<{ url: string; connections: () => number; close(): Promise<void> }> {
  let connections = 0;
  const server = net.createServer((socket) => {
    connections += 1;
    socket.resetAndDestroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `ws://127.0.0.1:${(server.address() as net.AddressInfo).port}/ws/chat`,
    connections: () => connections,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

for (const dialect of testDialects()) describe(`the built server with the default baileys driver and no network (${dialect})`, () => {
  let database: TestDatabase;
  let dataDir: string;
  let whatsapp: Awaited<ReturnType<typeof unreachableWhatsApp>>;
  let server: ChildProcess;
  let base: string | undefined;
  let env: NodeJS.ProcessEnv;
  let output = '';
  let linked: { id: string; apiKey: string };
  let fresh: { id: string; apiKey: string };

  beforeAll(async () => {
    ensureBuilt(ROOT);
    database = await createTestDatabase(dialect);
    dataDir = database.dataDir;
    whatsapp = await unreachableWhatsApp();
    // A short link timeout: `messageapi link` waits it out before it gives its error.
    env = { ...process.env, DATA_DIR: dataDir, DATABASE_URL: database.url, MESSAGEAPI_SECRET: SECRET, LOG_LEVEL: 'info', WHATSAPP_LINK_TIMEOUT_MS: '2000', WHATSAPP_WS_URL: whatsapp.url };
    delete env.WHATSAPP_DRIVER;
    delete env.NODE_ENV;
    linked = JSON.parse(cli(env, 'accounts', 'create', '--email', 'linked@example.com', '--plan', 'unlimited', '--json')) as { id: string; apiKey: string };
    fresh = JSON.parse(cli(env, 'accounts', 'create', '--email', 'fresh@example.com', '--plan', 'unlimited', '--json')) as { id: string; apiKey: string };
    // A number linked earlier: its creds are in the encrypted store.
    const store = Store.open(database.url);
    await new AuthStateStore(store, SECRET).saveCreds(linked.id, linkedCreds('15550000001'));
    await store.close();

    // Port 0: the kernel picks a free port and the server says which in its "listening" line.
    server = spawn(process.execPath, [path.join(ROOT, 'bin/messageapi.js'), 'serve', '--port', '0', '--host', '127.0.0.1'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    server.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    server.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    // A deadline, not a count of tries: on a loaded machine the start alone can take 20 s.
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      base ??= /MessageAPI listening on (http:\/\/[^\s"]+)/.exec(output)?.[1];
      const ok = base !== undefined && (await fetch(`${base}/healthz`).then((r) => r.ok, () => false));
      if (ok) return;
      if (server.exitCode !== null) throw new Error(`the server exited: ${output}`);
      await sleep(50);
    }
    throw new Error(`the server did not start: ${output}`);
  }, 120_000);

  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000)]);
      if (server.exitCode === null) server.kill('SIGKILL');
    }
    await whatsapp?.close();
    await database?.drop();
  });

  const api = (key: string, method: string, url: string, body?: unknown) =>
    fetch(`${base}${url}`, { method, headers: { 'X-API-Key': key, ...(body ? { 'Content-Type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });

  it('serves, and shows the linked session as reconnecting with the reason', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    let session: { state: string; phone: string | null; detail: string | null } | undefined;
    for (let i = 0; i < 100; i++) {
      session = (await (await api(linked.apiKey, 'GET', '/api/v1/session')).json()) as typeof session;
      if (session?.detail?.includes('Next attempt')) break;
      await sleep(100);
    }
    expect(session).toMatchObject({ state: 'reconnecting', phone: '15550000001' });
    expect(session!.detail).toMatch(/Reconnecting to WhatsApp/);
    const status = (await (await api(linked.apiKey, 'GET', '/api/v1/status')).json()) as Record<string, unknown>;
    expect(JSON.stringify(status)).toContain('reconnecting');
  });

  it('answers sends with 400 not_connected', async () => {
    const res = await api(linked.apiKey, 'POST', '/api/v1/send', { recipient: '12125551234', text: 'hello' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe('not_connected');
  });

  it('answers session/link with a clear error, in bounded time, instead of hanging', async () => {
    const started = Date.now();
    const res = await api(fresh.apiKey, 'POST', '/api/v1/session/link');
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(res.status).toBe(503);
    const body = (await res.json()) as { success: boolean; code: string; error: string };
    expect(body).toMatchObject({ success: false, code: 'service_unavailable' });
    expect(body.error).toMatch(/Could not reach WhatsApp/);
    const session = (await (await api(fresh.apiKey, 'GET', '/api/v1/session')).json()) as { state: string };
    expect(session.state).toBe('unlinked');
    // It was our unreachable address the driver dialled, not WhatsApp.
    expect(whatsapp.connections()).toBeGreaterThan(0);
  });

  it('`messageapi link --account ID` ends with the same clear error', () => {
    const started = Date.now();
    let failure: { status: number | null; stderr: string } | undefined;
    try {
      cli(env, 'link', '--account', fresh.id);
    } catch (error) {
      failure = error as { status: number | null; stderr: string };
    }
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(failure?.status).toBe(1);
    expect(String(failure?.stderr)).toMatch(/error: Could not reach WhatsApp/);
  }, 20_000);

  it('keeps the CPU idle while reconnecting, with one log line per attempt at most', async () => {
    const before = cpuSeconds(server.pid!);
    await sleep(10_000);
    const used = cpuSeconds(server.pid!) - before;
    // About 2 % of one core on a quiet machine (its timers, polls and reconnect attempts); a
    // reconnect loop without backoff takes most of a core. Under 10 %: a full CI run's contention
    // inflated the quiet figure to 5 %.
    expect(used).toBeLessThan(1);
    const attempts = output
      .split('\n')
      .filter((line) => line.includes('WhatsApp connection failed'))
      .map((line) => (JSON.parse(line) as { attempt: number; accountId: string }).attempt);
    expect(attempts.length).toBeGreaterThan(0);
    expect(attempts).toEqual(attempts.map((_, i) => i + 1));
    // nothing else from the library on each attempt
    const baileysLines = output.split('\n').filter((line) => line.includes('"component":"baileys"'));
    expect(baileysLines).toEqual([]);
  }, 20_000);
});
