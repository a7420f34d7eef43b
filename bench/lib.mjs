import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'bin/messageapi.js');

export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export function cli(args, env) {
  const result = spawnSync(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`messageapi ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

export async function createAccount(env, plan) {
  return JSON.parse(cli(['accounts', 'create', '--email', `bench-${Math.random().toString(36).slice(2)}@example.com`, '--plan', plan, '--json'], env));
}

/** Starts a server process (ours or the bare baseline) and waits until it answers. */
export async function startProcess(script, args, env, readyPath) {
  const port = await freePort();
  const child = spawn(process.execPath, [script, ...args], { env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const url = `http://127.0.0.1:${port}`;
  // Generous: on a loaded two-core machine a cold start has taken over 30 s.
  const deadline = Date.now() + Number(process.env.BENCH_READY_MS ?? 120_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`process exited: ${output}`);
    try {
      const res = await fetch(`${url}${readyPath}`, readyPath === '/api/v1/send' ? { method: 'POST' } : {});
      if (res.status < 500) break;
    } catch {}
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`not ready: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return { url, child, output: () => output, stop: async () => { child.kill('SIGTERM'); await exited; } };
}

export function startServer(env) {
  return startProcess(BIN, ['serve'], env, '/readyz');
}

export function load(options) {
  return new Promise((resolve, reject) => {
    autocannon({ connections: 50, duration: 10, ...options }, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

export const fmt = (n, digits = 0) => (n === null || n === undefined || Number.isNaN(n) ? '-' : Number(n).toFixed(digits));

export function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows.map((r) => r.map((c, i) => String(c).padEnd(widths[i])).join('  ')).join('\n');
}
