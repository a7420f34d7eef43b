import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPassword } from '../../src/core/passwords.js';
import { CONTENT_SECURITY_POLICY, WEB_ROOT } from '../../src/http/dashboard/static-files.js';
import { Store } from '../../src/store/store.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../helpers/databases.js';
import { runCli, startServerProcess } from '../helpers/server-process.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const built = fs.existsSync(path.join(WEB_ROOT, 'index.html'));

for (const dialect of testDialects()) {
  describe(`the operator's side of the dashboard (${dialect})`, () => {
    let database: TestDatabase;
    let env: Record<string, string>;
    beforeAll(async () => {
      database = await createTestDatabase(dialect);
      env = { DATA_DIR: database.dataDir, DATABASE_URL: database.url, WHATSAPP_DRIVER: 'sandbox', LOG_LEVEL: 'warn' };
    });
    afterAll(() => database.drop());

    const stored = async (email: string) => {
      const store = Store.open(database.url);
      try {
        return await store.db.selectFrom('accounts').select(['password_hash', 'is_admin']).where('email', '=', email).executeTakeFirstOrThrow();
      } finally {
        await store.close();
      }
    };

    it('prints the one-time setup link on the terminal when the server starts without accounts', async () => {
      const server = await startServerProcess(env);
      try {
        await expect.poll(() => server.output(), { timeout: 10_000 }).toMatch(/\/setup#token=[\w-]{20,}/);
        const link = /(http:\/\/\S+\/setup#token=\S+)/.exec(server.output())![1]!;
        expect(link.startsWith(server.url)).toBe(true);
        // not through the log: no JSON log line carries the token
        const token = link.split('#token=')[1]!;
        expect(server.output().split('\n').filter((line) => line.startsWith('{') && line.includes(token))).toEqual([]);
      } finally {
        await server.kill('SIGTERM');
      }
    });

    it('creates an admin with a password from stdin, and resets a password with set-password', async () => {
      const created = runCli(['accounts', 'create', '--email', 'Boss@Example.com', '--plan', 'unlimited', '--admin', '--password', '--json'], env, 'first password here\n');
      expect(created.code, created.stderr).toBe(0);
      expect(JSON.parse(created.stdout)).toMatchObject({ email: 'boss@example.com', plan: 'unlimited' });
      let row = await stored('boss@example.com');
      expect(row.is_admin).toBe(1);
      expect(await verifyPassword('first password here', row.password_hash!)).toBe(true);

      const short = runCli(['accounts', 'set-password', 'boss@example.com'], env, 'short\n');
      expect(short.code).toBe(1);
      expect(short.stderr).toMatch(/at least 10 characters/);
      const reset = runCli(['accounts', 'set-password', JSON.parse(created.stdout).id], env, 'second password here\n');
      expect(reset.code, reset.stderr).toBe(0);
      row = await stored('boss@example.com');
      expect(await verifyPassword('second password here', row.password_hash!)).toBe(true);
      expect(await verifyPassword('first password here', row.password_hash!)).toBe(false);
      expect(runCli(['accounts', 'set-password', 'nobody@example.com'], env, 'whatever long enough\n').code).toBe(1);
    });

    it('prints no setup link once an account exists', async () => {
      const server = await startServerProcess(env);
      try {
        // the link would be printed before the start's last line ("Dashboard: … API reference: …")
        await expect.poll(() => server.output(), { timeout: 10_000 }).toMatch(/Dashboard: .* API reference: /);
        expect(server.output()).not.toMatch(/setup#token=/);
      } finally {
        await server.kill('SIGTERM');
      }
    });
  });
}

describe('the built pages at / (sqlite)', () => {
  let t: TestApp;
  beforeAll(async () => {
    // `npm test` builds first; a missing build is a failure here, not a reason to skip.
    if (!built) throw new Error(`The dashboard is not built (${WEB_ROOT}): run \`npm run build\` first.`);
    t = await startTestApp('sqlite');
  });
  afterAll(() => t.close());

  it('serves every page as the app, with a strict Content-Security-Policy', async () => {
    for (const url of ['/', '/login', '/keys', '/admin/accounts/acc_x']) {
      const res = await t.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type']).toMatch(/text\/html/);
      expect(res.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.body).toContain('<div id="app">');
    }
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe|\*/);
    const script = /src="(\/assets\/[^"]+\.js)"/.exec((await t.inject({ method: 'GET', url: '/' })).body)![1]!;
    const asset = await t.inject({ method: 'GET', url: script });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toMatch(/immutable/);
    // no inline script in the page, nothing from another origin
    const html = (await t.inject({ method: 'GET', url: '/' })).body;
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/https?:\/\//);
  });

  it('leaves the API where it was: unknown API paths are still JSON 404s', async () => {
    const res = await t.inject({ method: 'GET', url: '/api/v1/nothing-here' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ success: false, code: 'not_found' });
    expect((await t.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it("gives a browser opening an unknown path the dashboard's not-found page (404); API paths and programs keep the JSON 404", async () => {
    const html = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
    for (const url of ['/no-such-page', '/keys/extra', '/settings?tab=1']) {
      const res = await t.inject({ method: 'GET', url, headers: { accept: html } });
      expect(res.statusCode, url).toBe(404);
      expect(res.headers['content-type']).toMatch(/text\/html/);
      expect(res.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
      expect(res.body).toContain('<div id="app">');
    }
    for (const url of ['/api/v1/nothing-here', '/api/nothing', '/auth/nothing', '/docs/nothing/here']) {
      const res = await t.inject({ method: 'GET', url, headers: { accept: html } });
      expect(res.statusCode, url).toBe(404);
      expect(res.json(), url).toMatchObject({ success: false, code: 'not_found' });
    }
    // a program (no HTML in Accept) and a POST get JSON anywhere
    expect((await t.inject({ method: 'GET', url: '/no-such-page', headers: { accept: 'application/json' } })).json()).toMatchObject({ code: 'not_found' });
    expect((await t.inject({ method: 'POST', url: '/no-such-page', headers: { accept: html } })).json()).toMatchObject({ code: 'not_found' });
  });

  it('streams the session state as server-sent events', async () => {
    const { apiKey } = await t.createAccount('trial');
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const address = t.app.server.address() as { port: number };
    const controller = new AbortController();
    const response = await fetch(`http://127.0.0.1:${address.port}/api/v1/session/events`, { headers: { 'x-api-key': apiKey }, signal: controller.signal });
    expect(response.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = response.body!.getReader();
    let text = '';
    while (!text.includes('event: session')) text += new TextDecoder().decode((await reader.read()).value);
    while (!/data: .*\n\n/.test(text)) text += new TextDecoder().decode((await reader.read()).value);
    expect(JSON.parse(/data: (.*)\n/.exec(text)![1]!)).toMatchObject({ state: 'connected', phone: expect.stringMatching(/^1555/) });
    controller.abort();
  });
});
