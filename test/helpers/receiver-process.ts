// Starts the sample webhook receivers of receivers/ under their real runtimes (php -S, node, python3).
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const RECEIVERS = resolve(dirname(fileURLToPath(import.meta.url)), '../../receivers');

export interface Runtime {
  name: string;
  file: string;
  binary: string;
  args: string[];
  env?: Record<string, string>;
}

export const runtimes: Runtime[] = [
  {
    name: 'PHP',
    file: 'receiver.php',
    binary: 'php',
    // Port 0: the system picks a free port, named in php -S's "Development Server (…) started" line.
    args: ['-S', '127.0.0.1:0', 'receiver.php'],
    // Several workers, so concurrent deliveries really run in parallel and flock() is exercised.
    env: { PHP_CLI_SERVER_WORKERS: '4' },
  },
  { name: 'Node.js', file: 'receiver.mjs', binary: process.execPath, args: ['receiver.mjs'] },
  { name: 'Python 3', file: 'receiver.py', binary: 'python3', args: ['receiver.py'] },
];

// ---------------------------------------------------------------------------------------------
// Process handling

export interface Launched {
  child: ChildProcess;
  exited: Promise<number | null>;
  output(): string;
  stop(): Promise<void>;
}

export interface Started extends Launched {
  port: number;
  url: string;
}

/**
 * The address a receiver reports once it listens: the Node.js and Python receivers print
 * "Webhook receiver listening on http://host:port/", php -S prints "Development Server (http://host:port) started".
 */
const BOUND = /listening on (http:\/\/[^\s/]+)\/|Development Server \((http:\/\/[^\s)]+)\) started/;

/** Starts a receiver on a port the system picks (PORT=0), without waiting for it to listen. */
export function launch(rt: Runtime, dir: string, secret: string | undefined): Launched {
  const env: NodeJS.ProcessEnv = { ...process.env, ...rt.env, PORT: '0', HOST: '127.0.0.1' };
  delete env.WEBHOOK_SECRET;
  if (secret !== undefined) env.WEBHOOK_SECRET = secret;
  // Own process group, so stop() also ends php -S worker processes.
  const child = spawn(rt.binary, rt.args, { cwd: dir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
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
  return { child, exited, output: () => output, stop };
}

/**
 * Starts a receiver and waits for the line naming the port it bound (printed once it listens, so
 * nothing can take the port in between); fails if the runtime is missing or the receiver exits.
 */
export async function start(rt: Runtime, dir: string, secret: string | undefined): Promise<Started> {
  const r = launch(rt, dir, secret);
  try {
    const base = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${rt.name} receiver did not report listening within 15 s:\n${r.output()}`)), 15_000);
      const check = () => {
        const match = BOUND.exec(r.output());
        if (!match) return;
        clearTimeout(timer);
        r.child.stdout?.off('data', check);
        r.child.stderr?.off('data', check);
        resolve((match[1] ?? match[2])!);
      };
      r.child.stdout?.on('data', check);
      r.child.stderr?.on('data', check);
      r.exited.then(
        (code) => reject(new Error(`${rt.name} receiver exited with ${code} before listening:\n${r.output()}`)),
        (err: unknown) => reject(err),
      ).finally(() => clearTimeout(timer));
      check();
    });
    return { ...r, port: Number(new URL(base).port), url: `${base}/` };
  } catch (error) {
    await r.stop();
    throw error;
  }
}
