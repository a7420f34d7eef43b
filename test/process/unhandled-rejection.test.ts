import { afterAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { runCli, startServerProcess, type ServerProcess } from '../helpers/server-process.js';

let database: TestDatabase | undefined;
let server: ServerProcess | undefined;
afterAll(async () => {
  await server?.kill('SIGTERM');
  await database?.drop();
});

// A promise a library rejects with nobody awaiting it (Baileys on a closing socket, say) is a bug to
// log, not a reason to drop every account's session and request. Node's default would exit.
it('a promise that fails with nobody handling it is logged, and the server keeps answering', { timeout: 120_000 }, async () => {
  database = await createTestDatabase('sqlite');
  const env = { DATA_DIR: database.dataDir, DATABASE_URL: database.url, WHATSAPP_DRIVER: 'sandbox', LOG_LEVEL: 'info' };
  const { apiKey } = JSON.parse(runCli(['accounts', 'create', '--email', 'stray@example.com', '--plan', 'trial', '--json'], env).stdout);
  // Loaded before the server, in its process: on SIGUSR2, a rejection that nothing handles.
  const stray = "process.on('SIGUSR2', () => { Promise.reject(new Error('stray rejection for the test')); });";
  server = await startServerProcess({ ...env, NODE_OPTIONS: `--import=data:text/javascript,${encodeURIComponent(stray)}` });
  server.child.kill('SIGUSR2');
  await expect.poll(() => server!.output(), { timeout: 15_000 }).toContain('stray rejection for the test');
  expect(server.output()).toMatch(/nothing handled it/);
  expect(server.child.exitCode).toBeNull();
  const res = await fetch(`${server.url}/api/v1/send`, {
    method: 'POST',
    headers: { 'x-api-key': apiKey, 'content-type': 'application/json' },
    body: JSON.stringify({ recipient: '12125550123', text: 'still here' }),
  });
  expect(res.status).toBe(200);
});
