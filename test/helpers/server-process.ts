import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The built CLI a user runs (`messageapi`). */
export const BIN = path.join(ROOT, 'bin/messageapi.js');

/** Runs the operator CLI as a user would (the built bin/messageapi.js). */
export function runCli(args: string[], env: Record<string, string>, input?: string) {
  const result = spawnSync(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', input, timeout: 30_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** runCli without blocking: for invocations that may run side by side. */
export function runCliAsync(args: string[], env: Record<string, string>): Promise<ReturnType<typeof runCli>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

/** Log levels that would hide the "listening" line the bound port is read from. */
const QUIETER_THAN_INFO = new Set(['warn', 'error', 'fatal', 'silent']);

/**
 * Starts `messageapi serve` in its own process on a port the kernel picks (PORT=0), reads the bound
 * port from its "listening" log line (so no other process can take the port in between; the server
 * logs at least at info for this), and waits until /readyz answers.
 */
export async function startServerProcess(env: Record<string, string>, args: string[] = []): Promise<ServerProcess> {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], {
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', ...env, LOG_LEVEL: QUIETER_THAN_INFO.has(env.LOG_LEVEL ?? '') ? 'info' : (env.LOG_LEVEL ?? 'info') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  let ready = false;
  let stopRequested = false;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code, signal) => {
      // A server that fails on its own mid-test shows up later as refused connections; say why here.
      if (ready && !stopRequested && signal === null && code !== 0) process.stderr.write(`\nserver process ${child.pid} exited by itself with ${code}; its last output:\n${output.slice(-8_000)}\n`);
      resolve(code);
    }),
  );
  // Generous: on a loaded machine (several suites on two cores) a start has taken 20 s.
  const deadline = Date.now() + 60_000;
  let url: string | undefined;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${output}`);
    url ??= /MessageAPI listening on (http:\/\/[^\s"]+)/.exec(output)?.[1];
    if (url) {
      try {
        const res = await fetch(`${url}/readyz`);
        if (res.ok) break;
      } catch {
        // not ready yet
      }
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not become ready:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  ready = true;
  return {
    url,
    child,
    output: () => output,
    kill: async (signal) => {
      stopRequested = true;
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}
