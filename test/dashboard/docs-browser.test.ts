import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';

/**
 * /docs in a real headless Chromium under a host name that is not localhost, over plain HTTP
 * (issue 21: its CSP used to carry upgrade-insecure-requests, so the browser asked for its CSS and
 * JS over HTTPS and showed a blank page). The page does not touch the database: one dialect.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const HOST = 'gateway.example.test';
const skip = process.env.SKIP_BROWSER_TESTS === '1';

describe.skipIf(skip)('/docs in a browser under a non-local host name', () => {
  let database: TestDatabase;
  let server: RunningServer;
  let context: BrowserContext;
  const messages: string[] = [];
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'messageapi-docs-chromium-'));

  beforeAll(async () => {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`No browser at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH, or SKIP_BROWSER_TESTS=1).`);
    database = await createTestDatabase('sqlite');
    const config = loadConfig({
      WHATSAPP_DRIVER: 'sandbox',
      DATA_DIR: database.dataDir,
      DATABASE_URL: database.url,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      MESSAGEAPI_SECRET: 'docs-browser-secret-docs-browser-secret',
    });
    server = await startServer(config, { handleSignals: false });
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        `--host-resolver-rules=MAP ${HOST} 127.0.0.1`,
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await server?.close();
    await database?.drop();
    fs.rmSync(profile, { recursive: true, force: true });
  });

  it('renders the operations with our name and logo, and the console shows no CSP errors', async () => {
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (message) => messages.push(`${message.type()}: ${message.text()}`));
    page.on('pageerror', (error) => messages.push(`page error: ${error.message}`));
    const failed: string[] = [];
    page.on('requestfailed', (request) => failed.push(`${request.url()} ${request.failure()?.errorText}`));
    const port = new URL(server.url).port;
    const base = `http://${HOST}:${port}`;

    const answer = await page.goto(`${base}/docs`);
    expect(answer?.status()).toBe(200);
    const csp = answer?.headers()['content-security-policy'] ?? '';
    expect(csp).not.toContain('upgrade-insecure-requests');
    await expect.poll(() => page.locator('.opblock').count(), { timeout: 20_000 }).toBeGreaterThan(40);

    expect(await page.title()).toMatch(/MessageAPI/);
    expect(await page.locator('.topbar a img').getAttribute('src')).toMatch(/^data:image\/svg\+xml;base64,/);
    const logo = Buffer.from((await page.locator('.topbar a img').getAttribute('src'))!.split(',')[1]!, 'base64').toString('utf8');
    expect(logo).toBe(fs.readFileSync(path.resolve('web/public/favicon.svg'), 'utf8'));
    await expect.poll(() => page.locator('.info .title').textContent(), { timeout: 5000 }).toMatch(/^MessageAPI/);
    await expect.poll(() => page.locator('.info .description p').first().textContent(), { timeout: 5000 }).toMatch(/^Authentication\. Send your API key/);
    expect(await page.locator('.info .description pre').first().textContent()).toMatch(/curl .*\/api\/v1\/send\s+curl .*\/send\.php\?apikey=/);

    // Open one operation, so its schemas and examples render too.
    await page.locator('#operations-send-sendText .opblock-summary').click();
    await expect.poll(() => page.locator('#operations-send-sendText .responses-table').count(), { timeout: 5000 }).toBeGreaterThan(0);

    expect(failed).toEqual([]);
    expect(messages.filter((line) => /Content.Security.Policy|Refused to/i.test(line))).toEqual([]);
    expect(messages.filter((line) => line.startsWith('error') || line.startsWith('page error'))).toEqual([]);
  }, 60_000);
});
