import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { createStoredAccounts, createTestDatabase, testDialects, type TestDatabase } from '../helpers/databases.js';
import { BIN, startServerProcess } from '../helpers/server-process.js';

for (const dialect of testDialects()) describe(`graceful shutdown (${dialect})`, () => {
  let database: TestDatabase;
  afterAll(() => database?.drop());

  // Two server starts and a CLI run: on a loaded machine (load average ~20 on two cores) that passed 30 s.
  it('on SIGTERM finishes the request in flight, exits 0, and leaves the pending message for the next start', { timeout: 120_000 }, async () => {
    database = await createTestDatabase(dialect);
    const env = { DATA_DIR: database.dataDir, DATABASE_URL: database.url, WHATSAPP_DRIVER: 'sandbox', LOG_LEVEL: 'info' };
    const [{ apiKey }] = await createStoredAccounts(database.url, ['term@example.com'], 'trial');
    const server = await startServerProcess(env);
    // A …0001 number stays pending for 30 s, so this request waits its full 1.5 s.
    const inFlight = fetch(`${server.url}/api/v1/send`, {
      method: 'POST',
      headers: { 'x-api-key': apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({ recipient: '12125550001', text: 'slow', wait: 1500 }),
    });
    // In flight: its message is logged and the request is waiting for the outcome.
    await expect
      .poll(async () => ((await (await fetch(`${server.url}/api/v1/messages?limit=1`, { headers: { 'x-api-key': apiKey } })).json()) as { messages?: unknown[] }).messages?.length, { timeout: 5_000, interval: 20 })
      .toBe(1);
    const started = Date.now();
    const exit = server.kill('SIGTERM');
    const res = await inFlight;
    expect(res.status).toBe(200);
    const body = (await res.json()) as { messageId: string; status: string };
    expect(body).toMatchObject({ success: true, status: 'pending' });
    expect(await exit, server.output()).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
    expect(server.output()).toMatch(/shutting down/);

    const again = await startServerProcess(env);
    try {
      const stored = (await (await fetch(`${again.url}/api/v1/messages/${body.messageId}`, { headers: { "x-api-key": apiKey } })).json()) as { status: string };
      expect(stored.status).toBe('pending');
    } finally {
      await again.kill('SIGTERM');
    }
  });
});

describe('a SIGTERM right after the server says it listens', () => {
  let database: TestDatabase;
  afterAll(() => database?.drop());

  // The first start of an empty database still makes its setup link after listening: a SIGTERM
  // then must shut down as any other, not kill the process (signal handlers come before that await).
  it('shuts down gracefully and exits 0, on a first start still making its setup link', { timeout: 60_000 }, async () => {
    database = await createTestDatabase('sqlite');
    const child = spawn(process.execPath, [BIN, 'serve'], {
      env: { ...process.env, HOST: '127.0.0.1', PORT: '0', DATA_DIR: database.dataDir, DATABASE_URL: database.url, WHATSAPP_DRIVER: 'sandbox', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    child.stderr.on('data', (d) => (output += d));
    child.stdout.on('data', (d) => {
      output += d;
      if (output.includes('MessageAPI listening on') && !child.killed) child.kill('SIGTERM');
    });
    expect(await exited, output).toEqual({ code: 0, signal: null });
    expect(output).toMatch(/shutting down/);
  });
});
