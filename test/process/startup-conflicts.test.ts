import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listedSandboxSends } from '../helpers/crash-rig.js';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { runCli, startServerProcess, type ServerProcess } from '../helpers/server-process.js';

/**
 * A second `serve` started by mistake (the quick start's `npm start &` run twice, a second terminal)
 * must leave the running server alone and say why it stopped. On SQLite it would otherwise hand
 * back the first server's claims and open its WhatsApp sessions (which replaces the first one's
 * connections) before finding the port taken.
 */
describe('a second server started by mistake (SQLite)', () => {
  let database: TestDatabase;
  let env: Record<string, string>;
  let first: ServerProcess;
  let apiKey: string;
  const otherDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'messageapi-other-'));
  const servers: ServerProcess[] = [];

  beforeAll(async () => {
    database = await createTestDatabase('sqlite');
    env = { DATA_DIR: database.dataDir, DATABASE_URL: database.url, WHATSAPP_DRIVER: 'sandbox', LOG_LEVEL: 'info' };
    apiKey = JSON.parse(runCli(['accounts', 'create', '--email', 'twice@example.com', '--plan', 'unlimited', '--json'], env).stdout).apiKey;
    first = await startServerProcess(env);
    servers.push(first);
  }, 120_000);
  afterAll(async () => {
    for (const server of servers) await server.kill('SIGTERM');
    await database?.drop();
    fs.rmSync(otherDataDir, { recursive: true, force: true });
  });

  const send = (server: ServerProcess, recipient: string, text: string) =>
    fetch(`${server.url}/api/v1/send`, { method: 'POST', headers: { 'x-api-key': apiKey, 'content-type': 'application/json' }, body: JSON.stringify({ recipient, text }) });

  it('on the same database: it stops before touching anything, says another server runs there, and the first keeps sending', { timeout: 120_000 }, async () => {
    // A message the first server holds in its hands for 30 s (a …0001 number stays pending).
    const held = await send(first, '12125550001', 'held by the first server');
    expect(held.status).toBe(200);
    const { messageId } = (await held.json()) as { messageId: string };

    const error = await startServerProcess(env).then(
      (second) => (servers.push(second), null),
      (e: Error) => e.message,
    );
    expect(error).toMatch(/server exited with 1/);
    expect(error).toContain('Another MessageAPI server is already running on this database');
    expect(error).not.toMatch(/listening/);

    // The first server's message was not taken from it and sent by the second: it is still pending, sent once later.
    expect((await listedSandboxSends(first.url, apiKey)).filter((id) => id === messageId)).toEqual([]);
    expect((await send(first, '12125551234', 'the first server still sends')).status).toBe(200);
    const status = await (await fetch(`${first.url}/api/v1/status`, { headers: { 'x-api-key': apiKey } })).json();
    expect(status).toMatchObject({ connected: true });
  });

  it('after the first server is killed (SIGKILL), the next one starts on that database at once: the lock does not outlive its process', { timeout: 120_000 }, async () => {
    await first.kill('SIGKILL');
    const next = await startServerProcess(env);
    servers.push(next);
    expect((await send(next, '12125551234', 'from the next server')).status).toBe(200);
  });

  it('on a port another server holds: it says which port is taken and how to choose another', { timeout: 120_000 }, async () => {
    const running = servers[servers.length - 1]!;
    const port = new URL(running.url).port;
    const error = await startServerProcess({ ...env, DATA_DIR: otherDataDir, DATABASE_URL: `sqlite:${path.join(otherDataDir, 'messageapi.db')}`, PORT: port }).then(
      (other) => (servers.push(other), null),
      (e: Error) => e.message,
    );
    expect(error).toContain(`error: port ${port} on 127.0.0.1 is already in use`);
    expect(error).toContain('choose another port with --port or PORT');
    expect(error).not.toMatch(/at Server\.setupListenHandle/);
  });
});
