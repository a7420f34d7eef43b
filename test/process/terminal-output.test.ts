import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { startServerProcess } from '../helpers/server-process.js';

// What the operator sees in the terminal; the log format does not touch the store, so one dialect.
describe('server output', () => {
  let database: TestDatabase;
  let env: Record<string, string>;
  beforeAll(async () => {
    database = await createTestDatabase('sqlite');
    env = { DATA_DIR: database.dataDir, DATABASE_URL: database.url, WHATSAPP_DRIVER: 'sandbox' };
  });
  afterAll(() => database.drop());

  it('logs one readable line per request with LOG_FORMAT=pretty, and says where the dashboard and /docs are', { timeout: 60_000 }, async () => {
    const server = await startServerProcess({ ...env, LOG_FORMAT: 'pretty' });
    try {
      expect((await fetch(`${server.url}/api/v1/status?limit=1`)).status).toBe(401);
      await expect.poll(() => server.output(), { timeout: 10_000 }).toMatch(/^\d\d:\d\d:\d\d INFO {2}GET \/api\/v1\/status\?limit=1 → 401 \(\d+(\.\d)? ms\)$/m);
      const output = server.output();
      expect(output).toContain(`Dashboard: ${server.url}/  API reference: ${server.url}/docs  Database: SQLite `);
      expect(output).not.toMatch(/"level":/);
      expect(output).not.toMatch(/incoming request/);
    } finally {
      await server.kill('SIGTERM');
    }
  });

  it('keeps one JSON object per line when the output is not a terminal', { timeout: 60_000 }, async () => {
    const server = await startServerProcess(env);
    try {
      expect((await fetch(`${server.url}/api/v1/status`)).status).toBe(401);
      await expect.poll(() => server.output(), { timeout: 10_000 }).toMatch(/"msg":"request completed"/);
      const lines = server.output().split('\n').filter((l) => l.startsWith('{'));
      expect(lines.length).toBeGreaterThan(2);
      for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
      expect(lines.map((l) => JSON.parse(l).msg)).toContain(`Dashboard: ${server.url}/  API reference: ${server.url}/docs  Database: ${`SQLite ${database.url.replace(/^sqlite:(\/\/)?/, '')}`}`);
    } finally {
      await server.kill('SIGTERM');
    }
  });
});
