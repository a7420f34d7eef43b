// Starts the sample webhook receivers of receivers/ under their real runtimes (php -S, node, python3).
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './server-process.js';

export const RECEIVERS = resolve(dirname(fileURLToPath(import.meta.url)), '../../receivers');

export interface Runtime {
  name: string;
  file: string;
  binary: string;
  args(port: number): string[];
  env?: Record<string, string>;
}

export const runtimes: Runtime[] = [
  {
    name: 'PHP',
    file: 'receiver.php',
    binary: 'php',
    args: (port) => ['-S', `127.0.0.1:${port}`, 'receiver.php'],
    // Several workers, so concurrent deliveries really run in parallel and flock() is exercised.
    env: { PHP_CLI_SERVER_WORKERS: '4' },
  },
  { name: 'Node.js', file: 'receiver.mjs', binary: process.execPath, args: () => ['receiver.mjs'] },
  { name: 'Python 3', file: 'receiver.py', binary: 'python3', args: () => ['receiver.py'] },
];

// ---------------------------------------------------------------------------------------------
// Process handling

export interface Launched {
  child: ChildProcess;
  port: number;
  url: string;
  exited: Promise<number | null>;
  output(): string;
  stop(): Promise<void>;
}


export async function launch(rt: Runtime, dir: string, secret: string | undefined): Promise<Launched> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, ...rt.env, PORT: String(port), HOST: '127.0.0.1' };
  delete env.WEBHOOK_SECRET;
  if (secret !== undefined) env.WEBHOOK_SECRET = secret;
  // Own process group, so stop() also ends php -S worker processes.
  const child = spawn(rt.binary, rt.args(port), { cwd: dir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((ok, fail) => {
    child.once('exit', (code) => ok(code));
    child.once('error', (err) =>
      fail(new Error(`cannot run ${rt.binary} (${err.message}); install it (e.g. apt-get install -y php-cli)`)),
    );
  });
  exited.catch(() => undefined); // observed by callers; avoid an unhandled rejection meanwhile
  const stop = async () => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
      await Promise.race([exited.catch(() => null), new Promise((r) => setTimeout(r, 5000))]);
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  };
  return { child, port, url: `http://127.0.0.1:${port}/`, exited, output: () => output, stop };
}

/** Starts a receiver and waits until it answers HTTP; fails if the runtime is missing or exits. */
export async function start(rt: Runtime, dir: string, secret: string | undefined): Promise<Launched> {
  const r = await launch(rt, dir, secret);
  const deadline = Date.now() + 15_000;
  let early: unknown = null;
  r.exited.then(
    (code) => (early = new Error(`${rt.name} receiver exited with ${code} before listening:\n${r.output()}`)),
    (err: unknown) => (early = err),
  );
  for (;;) {
    if (early) throw early;
    try {
      await fetch(r.url, { signal: AbortSignal.timeout(1000) });
      return r;
    } catch {
      if (Date.now() > deadline) {
        await r.stop();
        throw new Error(`${rt.name} receiver did not listen on ${r.url}:\n${r.output()}`);
      }
      await new Promise((res) => setTimeout(res, 100));
    }
  }
}

