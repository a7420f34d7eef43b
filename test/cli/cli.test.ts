import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, testDialects, type TestDatabase } from '../helpers/databases.js';
import { runCli, startServerProcess } from '../helpers/server-process.js';

for (const dialect of testDialects()) {
  describe(`operator CLI (${dialect})`, () => {
    let database: TestDatabase;
    let env: Record<string, string>;
    beforeAll(async () => {
      database = await createTestDatabase(dialect);
      env = { DATA_DIR: database.dataDir, DATABASE_URL: database.url, WHATSAPP_DRIVER: 'sandbox', LOG_LEVEL: 'warn' };
    });
    afterAll(() => database.drop());

    it('migrates, creates an account with --json, lists it, changes its plan, and manages keys', async () => {
      expect(runCli(['migrate'], env)).toMatchObject({ code: 0, stdout: expect.stringMatching(/up to date/) });
      const created = runCli(['accounts', 'create', '--email', 'Ann@Example.com', '--plan', 'personal', '--expires', '2030-01-31', '--json'], env);
      expect(created.code, created.stderr).toBe(0);
      const account = JSON.parse(created.stdout);
      expect(account).toEqual({ id: expect.stringMatching(/^acc_/), email: 'ann@example.com', plan: 'personal', apiKey: expect.stringMatching(/^msg_[0-9A-Za-z]{32,}$/) });

      const listed = JSON.parse(runCli(['accounts', 'list', '--json'], env).stdout);
      expect(listed).toEqual([expect.objectContaining({ id: account.id, plan: 'personal', subscriptionExpiresAt: '2030-01-31T23:59:59.999Z' })]);

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

    it('gives a clear error and a non-zero exit on bad arguments', () => {
      const badPlan = runCli(['accounts', 'create', '--email', 'x@example.com', '--plan', 'gold'], env);
      expect(badPlan.code).not.toBe(0);
      expect(badPlan.stderr).toMatch(/gold.*invalid|Allowed choices/);
      const noEmail = runCli(['accounts', 'create', '--plan', 'trial'], env);
      expect(noEmail.code).not.toBe(0);
      expect(noEmail.stderr).toMatch(/--email/);
      const badEmail = runCli(['accounts', 'create', '--email', 'not-an-email', '--plan', 'trial'], env);
      expect(badEmail.code).toBe(1);
      expect(badEmail.stderr).toMatch(/not a valid e-mail/);
      const duplicate = runCli(['accounts', 'create', '--email', 'hash@example.com', '--plan', 'trial'], env);
      expect(duplicate.code).toBe(1);
      expect(duplicate.stderr).toMatch(/already exists/);
      const badDate = runCli(['accounts', 'create', '--email', 'y@example.com', '--plan', 'trial', '--expires', 'soon'], env);
      expect(badDate.code).not.toBe(0);
      expect(badDate.stderr).toMatch(/2027-01-31/);
      const unknownAccount = runCli(['accounts', 'set-plan', 'acc_nope', 'trial'], env);
      expect(unknownAccount.code).toBe(1);
      expect(unknownAccount.stderr).toMatch(/No account/);
      const unknownCommand = runCli(['frobnicate'], env);
      expect(unknownCommand.code).not.toBe(0);
      expect(unknownCommand.stderr).toMatch(/unknown command/);
    });

    it('has --help on every command', { timeout: 90_000 }, () => {
      for (const args of [[], ['serve'], ['migrate'], ['accounts'], ['accounts', 'create'], ['accounts', 'list'], ['accounts', 'set-plan'], ['keys'], ['keys', 'create'], ['keys', 'revoke'], ['keys', 'list']]) {
        const res = runCli([...args, '--help'], env);
        expect(res.code, args.join(' ')).toBe(0);
        expect(res.stdout).toMatch(/Usage: messageapi/);
      }
    });
  });
}
