import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, testDialects, type TestDatabase } from '../helpers/databases.js';
import { runCli, startServerProcess } from '../helpers/server-process.js';

const modeOf = (file: string) => (fs.statSync(file).mode & 0o777).toString(8);

describe('files on disk are private', () => {
  let database: TestDatabase;
  afterAll(() => database?.drop());

  it('creates DATA_DIR 0700 with the database, its -wal/-shm, its server lock and secret.key 0600, and tightens them at start when looser', async () => {
    database = await createTestDatabase('sqlite');
    // A DATA_DIR that does not exist yet, so the server creates it.
    const dataDir = path.join(database.dataDir, 'fresh', 'data');
    const dbFile = path.join(dataDir, 'messageapi.db');
    const env = { DATA_DIR: dataDir, DATABASE_URL: `sqlite:${dbFile}`, MESSAGEAPI_SECRET: '', WHATSAPP_DRIVER: 'sandbox' };
    const files = [dbFile, `${dbFile}-wal`, `${dbFile}-shm`, `${dbFile}-server.lock`, path.join(dataDir, 'secret.key')];

    let server = await startServerProcess(env);
    try {
      expect(modeOf(dataDir)).toBe('700');
      for (const file of files) expect(modeOf(file), file).toBe('600');
    } finally {
      expect(await server.kill('SIGTERM')).toBe(0);
    }

    fs.chmodSync(dataDir, 0o755);
    const present = files.filter((file) => fs.existsSync(file));
    for (const file of present) fs.chmodSync(file, 0o644);
    expect(present).toContain(dbFile);
    server = await startServerProcess(env);
    try {
      expect(modeOf(dataDir)).toBe('700');
      for (const file of files) expect(modeOf(file), file).toBe('600');
    } finally {
      expect(await server.kill('SIGTERM')).toBe(0);
    }
  }, 90_000);
});

for (const dialect of testDialects()) {
  describe(`the secret key is guarded at start (${dialect})`, () => {
    let database: TestDatabase;
    afterAll(() => database?.drop());

    it('refuses to start, saying what to restore, when secret.key is missing or wrong while encrypted data exists', async () => {
      database = await createTestDatabase(dialect);
      const keyFile = path.join(database.dataDir, 'secret.key');
      const env = { DATA_DIR: database.dataDir, DATABASE_URL: database.url, MESSAGEAPI_SECRET: '', WHATSAPP_DRIVER: 'sandbox', ALLOW_PRIVATE_URLS: 'true' };
      const { apiKey } = JSON.parse(runCli(['accounts', 'create', '--email', 'secret@example.com', '--plan', 'unlimited', '--json'], env).stdout);

      const server = await startServerProcess(env);
      try {
        // Setting a webhook URL stores a signing secret, encrypted with the key.
        const res = await fetch(`${server.url}/api/v1/settings`, {
          method: 'PATCH',
          headers: { 'x-api-key': apiKey, 'content-type': 'application/json' },
          body: JSON.stringify({ webhookUrl: 'http://127.0.0.1:9/hook' }),
        });
        expect(res.status, await res.text()).toBe(200);
      } finally {
        expect(await server.kill('SIGTERM')).toBe(0);
      }
      const original = fs.readFileSync(keyFile);

      fs.rmSync(keyFile);
      const missing = runCli(['serve'], { ...env, PORT: '0', HOST: '127.0.0.1' });
      expect(missing.code, missing.stdout + missing.stderr).toBe(1);
      expect(missing.stderr).toContain(`Restore ${keyFile}`);
      expect(missing.stderr).toMatch(/MESSAGEAPI_SECRET/);
      expect(fs.existsSync(keyFile)).toBe(false);

      fs.writeFileSync(keyFile, 'a-different-key-a-different-key\n', { mode: 0o600 });
      const wrong = runCli(['serve'], { ...env, PORT: '0', HOST: '127.0.0.1' });
      expect(wrong.code, wrong.stdout + wrong.stderr).toBe(1);
      expect(wrong.stderr).toMatch(/is not the one the stored data was encrypted with/);
      expect(wrong.stderr).toContain(`Restore ${keyFile}`);

      const wrongEnv = runCli(['serve'], { ...env, PORT: '0', HOST: '127.0.0.1', MESSAGEAPI_SECRET: 'another-secret-another-secret' });
      expect(wrongEnv.code).toBe(1);
      expect(wrongEnv.stderr).toMatch(/MESSAGEAPI_SECRET is not the one|Set MESSAGEAPI_SECRET to the secret used before/);

      fs.writeFileSync(keyFile, original);
      const restored = await startServerProcess(env);
      try {
        const settings = await fetch(`${restored.url}/api/v1/settings`, { headers: { 'x-api-key': apiKey } });
        expect(settings.status).toBe(200);
        expect(await settings.json()).toMatchObject({ webhookUrl: 'http://127.0.0.1:9/hook' });
      } finally {
        expect(await restored.kill('SIGTERM')).toBe(0);
      }
    }, 120_000);
  });
}
