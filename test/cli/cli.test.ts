import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, testDialects, type TestDatabase } from '../helpers/databases.js';
import { runCli, runCliAsync, startServerProcess } from '../helpers/server-process.js';

describe('operator CLI help', () => {
  // A data folder of its own, though no command opens a database to print its help.
  let dataDir: string;
  beforeAll(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'messageapi-cli-help-'));
  });
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('has --help on every command', { timeout: 90_000 }, async () => {
    const env = { DATA_DIR: dataDir, DATABASE_URL: `sqlite:${path.join(dataDir, 'messageapi.db')}`, WHATSAPP_DRIVER: 'sandbox', LOG_LEVEL: 'warn' };
    const commands = [[], ['serve'], ['migrate'], ['accounts'], ['accounts', 'create'], ['accounts', 'list'], ['accounts', 'set-plan'], ['keys'], ['keys', 'create'], ['keys', 'revoke'], ['keys', 'list']];
    const answers = await Promise.all(commands.map((args) => runCliAsync([...args, '--help'], env)));
    answers.forEach((res, i) => {
      expect(res.code, commands[i]!.join(' ')).toBe(0);
      expect(res.stdout).toMatch(/Usage: messageapi/);
    });
  });
});

for (const dialect of testDialects()) {
  describe(`operator CLI (${dialect})`, () => {
    let database: TestDatabase;
    let env: Record<string, string>;
    beforeAll(async () => {
      database = await createTestDatabase(dialect);
      env = { DATA_DIR: database.dataDir, DATABASE_URL: database.url, WHATSAPP_DRIVER: 'sandbox', LOG_LEVEL: 'warn' };
    });
    afterAll(() => database.drop());

    it('migrates, creates an account with --json, lists it, changes its plan, and manages keys', { timeout: 90_000 }, async () => {
      expect(runCli(['migrate'], env)).toMatchObject({ code: 0, stdout: expect.stringMatching(/up to date/) });
      const created = runCli(['accounts', 'create', '--email', 'Ann@Example.com', '--plan', 'personal', '--expires', '2030-01-31', '--json'], env);
      expect(created.code, created.stderr).toBe(0);
      const account = JSON.parse(created.stdout);
      expect(account).toEqual({ id: expect.stringMatching(/^acc_/), email: 'ann@example.com', plan: 'personal', apiKey: expect.stringMatching(/^msg_[0-9A-Za-z]{32,}$/) });

      const listed = JSON.parse(runCli(['accounts', 'list', '--json'], env).stdout) as Array<{ id: string }>;
      expect(listed.filter((a) => a.id === account.id)).toEqual([expect.objectContaining({ id: account.id, plan: 'personal', subscriptionExpiresAt: '2030-01-31T23:59:59.999Z' })]);

      const changed = runCli(['accounts', 'set-plan', account.id, 'unlimited', '--expires', 'never'], env);
      expect(changed.code, changed.stderr).toBe(0);
      expect(changed.stdout).toMatch(/unlimited, expires: never/);

      const key = JSON.parse(runCli(['keys', 'create', account.id, '--json'], env).stdout);
      expect(key.apiKey).toMatch(/^msg_/);
      const keys = runCli(['keys', 'list', account.id], env).stdout;
      expect(keys).toContain(key.id);
      expect(keys).not.toContain(key.apiKey);

      // The server accepts both keys; a revoked one gets 401.
      const server = await startServerProcess(env);
      try {
        const status = (k: string) => fetch(`${server.url}/api/v1/status`, { headers: { 'x-api-key': k } }).then((r) => r.status);
        expect(await status(account.apiKey)).toBe(200);
        expect(await status(key.apiKey)).toBe(200);
        expect(runCli(['keys', 'revoke', key.id], env).code).toBe(0);
        // Another process's revocation reaches the server within a second (test/process/key-revocation.test.ts):
        // looked for until then, and once more after it.
        const revokedBy = Date.now() + 1_100;
        while (Date.now() < revokedBy && (await status(key.apiKey)) !== 401) await new Promise((r) => setTimeout(r, 50));
        expect(await status(key.apiKey)).toBe(401);
        expect(await status(account.apiKey)).toBe(200);
      } finally {
        await server.kill('SIGTERM');
      }
    });

    it('stores only a hash of each key', async () => {
      const { apiKey } = JSON.parse(runCli(['accounts', 'create', '--email', 'hash@example.com', '--plan', 'trial', '--json'], env).stdout);
      const { Store } = await import('../../src/store/store.js');
      const store = Store.open(database.url);
      try {
        const rows = await store.db.selectFrom('api_keys').selectAll().execute();
        const stored = JSON.stringify(rows);
        expect(stored).not.toContain(apiKey);
        expect(stored).not.toContain(apiKey.slice(10));
      } finally {
        await store.close();
      }
    });

    it('gives a clear error and a non-zero exit on bad arguments', { timeout: 90_000 }, async () => {
      // These the argument parser refuses, before any database is opened: run side by side.
      const [badPlan, noEmail, badDate, unknownCommand] = await Promise.all([
        runCliAsync(['accounts', 'create', '--email', 'x@example.com', '--plan', 'gold'], env),
        runCliAsync(['accounts', 'create', '--plan', 'trial'], env),
        runCliAsync(['accounts', 'create', '--email', 'y@example.com', '--plan', 'trial', '--expires', 'soon'], env),
        runCliAsync(['frobnicate'], env),
      ]);
      expect(badPlan.code).not.toBe(0);
      expect(badPlan.stderr).toMatch(/gold.*invalid|Allowed choices/);
      expect(noEmail.code).not.toBe(0);
      expect(noEmail.stderr).toMatch(/--email/);
      expect(badDate.code).not.toBe(0);
      expect(badDate.stderr).toMatch(/2027-01-31/);
      expect(unknownCommand.code).not.toBe(0);
      expect(unknownCommand.stderr).toMatch(/unknown command/);
      const badEmail = runCli(['accounts', 'create', '--email', 'not-an-email', '--plan', 'trial'], env);
      expect(badEmail.code).toBe(1);
      expect(badEmail.stderr).toMatch(/not a valid e-mail/);
      // An account of its own to repeat, so this test does not lean on another test's.
      expect(runCli(['accounts', 'create', '--email', 'taken@example.com', '--plan', 'trial'], env).code).toBe(0);
      const duplicate = runCli(['accounts', 'create', '--email', 'Taken@example.com', '--plan', 'trial'], env);
      expect(duplicate.code).toBe(1);
      expect(duplicate.stderr).toMatch(/already exists/);
      const unknownAccount = runCli(['accounts', 'set-plan', 'acc_nope', 'trial'], env);
      expect(unknownAccount.code).toBe(1);
      expect(unknownAccount.stderr).toMatch(/No account/);
    });

    it('says on stderr which database each command uses, keeping --json output clean', () => {
      const where = dialect === 'sqlite' ? database.url.replace(/^sqlite:(\/\/)?/, '') : new URL(database.url).pathname;
      for (const args of [['migrate'], ['accounts', 'list', '--json']]) {
        const res = runCli(args, env);
        expect(res.code, res.stderr).toBe(0);
        expect(res.stderr).toMatch(new RegExp(`^Database: ${dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL'} .*${where.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`, 'm'));
        expect(res.stdout).not.toMatch(/Database:/);
      }
      expect(() => JSON.parse(runCli(['accounts', 'list', '--json'], env).stdout)).not.toThrow();
    });

    it('lists admin, disabled and expired accounts as such, and takes an e-mail wherever it takes an account id', { timeout: 90_000 }, async () => {
      const admin = runCli(['accounts', 'create', '--email', 'boss@example.com', '--plan', 'unlimited', '--admin'], env);
      expect(admin.code, admin.stderr).toBe(0);
      expect(admin.stderr).toMatch(/No dashboard password yet: set one with {2}messageapi accounts set-password boss@example\.com/);
      const withPassword = runCli(['accounts', 'create', '--email', 'pw@example.com', '--plan', 'trial', '--password'], env, 'a long enough password\n');
      expect(withPassword.code, withPassword.stderr).toBe(0);
      expect(withPassword.stderr).not.toMatch(/No dashboard password/);
      expect(runCli(['accounts', 'create', '--email', 'old@example.com', '--plan', 'trial', '--expires', '2020-01-01'], env).code).toBe(0);
      const off = JSON.parse(runCli(['accounts', 'create', '--email', 'off@example.com', '--plan', 'trial', '--json'], env).stdout);
      const { Store } = await import('../../src/store/store.js');
      const store = Store.open(database.url);
      try {
        await store.db.updateTable('accounts').set({ active: 0 }).where('id', '=', off.id).execute();
      } finally {
        await store.close();
      }

      const lines = runCli(['accounts', 'list'], env).stdout.split('\n');
      const line = (email: string) => lines.find((l) => l.includes(` ${email} `)) ?? '';
      expect(line('boss@example.com')).toMatch(/\(admin\)$/);
      expect(line('old@example.com')).toMatch(/\(expired\)$/);
      expect(line('off@example.com')).toMatch(/\(disabled\)$/);
      expect(line('pw@example.com')).not.toMatch(/\(/);
      const json = JSON.parse(runCli(['accounts', 'list', '--json'], env).stdout) as { email: string; admin: boolean; active: boolean; expired: boolean }[];
      expect(json.find((a) => a.email === 'boss@example.com')).toMatchObject({ admin: true, active: true, expired: false });
      expect(json.find((a) => a.email === 'old@example.com')).toMatchObject({ admin: false, expired: true });
      expect(json.find((a) => a.email === 'off@example.com')).toMatchObject({ active: false });

      const planned = runCli(['accounts', 'set-plan', 'PW@example.com', 'personal'], env);
      expect(planned.code, planned.stderr).toBe(0);
      expect(planned.stdout).toMatch(/\(pw@example\.com\) is now on personal/);
      const key = runCli(['keys', 'create', 'pw@example.com', '--json'], env);
      expect(key.code, key.stderr).toBe(0);
      const created = JSON.parse(key.stdout);
      expect(runCli(['keys', 'list', created.accountId], env).stdout).toContain(created.id);
      const nobody = runCli(['keys', 'create', 'nobody@example.com'], env);
      expect(nobody.code).toBe(1);
      expect(nobody.stderr).toMatch(/No account nobody@example\.com/);
    });
  });
}
