import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { readmeBlocks, readRepoFile, shellCommands } from '../helpers/readme-examples.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const run = promisify(execFile);

/** The dashboard's Quick start examples, rendered exactly as the page renders them for a base URL and key. */
function quickStartExamples(base: string, key: string): Map<string, string> {
  const source = readRepoFile('web/src/pages/quick-start.tsx');
  const examples = new Map<string, string>();
  for (const m of source.matchAll(/id: '([\w-]+)',[\s\S]*?code: (`(?:[^`\\]|\\[\s\S])*`)/g)) {
    examples.set(m[1]!, new Function('base', 'KEY', `return ${m[2]};`)(base, key) as string);
  }
  return examples;
}

/**
 * Runs an Apps Script function in Node's vm with UrlFetchApp.fetch making the real request,
 * synchronously as in Apps Script. It runs in a child process: a synchronous request from this
 * one would block the server that has to answer it.
 */
const APPS_SCRIPT_RUNNER = String.raw`
const { execFileSync } = require('node:child_process');
const vm = require('node:vm');
const { script, call, rows = [] } = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
const fetcher = "const { url, options } = JSON.parse(require('fs').readFileSync(0, 'utf8'));" +
  "const headers = { ...(options.headers || {}) }; if (options.contentType) headers['Content-Type'] = options.contentType;" +
  "fetch(url, { method: (options.method || 'get').toUpperCase(), headers, body: options.payload }).then(async (r) => process.stdout.write(JSON.stringify({ code: r.status, text: await r.text() })));";
const requests = [];
const UrlFetchApp = {
  fetch(url, options = {}) {
    requests.push({ url, options });
    const answer = JSON.parse(execFileSync(process.execPath, ['-e', fetcher], { input: JSON.stringify({ url, options }), encoding: 'utf8', timeout: 15000 }));
    return { getResponseCode: () => answer.code, getContentText: () => answer.text };
  },
};
// A sheet whose selection is rows (number in A, text in B); what the script writes back is kept.
const written = [];
const selection = { getRow: () => 2, getNumRows: () => rows.length };
const sheet = {
  getActiveRange: () => selection,
  getRange: (row, column) => ({ getValues: () => rows, setValue: (value) => written.push({ row, column, value }) }),
};
const menus = [];
const SpreadsheetApp = {
  getActiveSheet: () => sheet,
  getUi: () => ({ createMenu: (name) => { const menu = { name, items: [], addItem(label, fn) { this.items.push([label, fn]); return this; }, addToUi() { menus.push(this); } }; return menu; } }),
};
const context = vm.createContext({ UrlFetchApp, SpreadsheetApp });
vm.runInContext(script, context);
const result = vm.runInContext(call, context);
process.stdout.write(JSON.stringify({ requests, result, written, menus }));
`;

interface AppsScriptRun {
  requests: Array<{ url: string; options: Record<string, unknown> }>;
  result: unknown;
  written: Array<{ row: number; column: number; value: unknown }>;
  menus: Array<{ name: string; items: Array<[string, string]> }>;
}

async function runAppsScript(script: string, call: string, rows: unknown[][] = []): Promise<AppsScriptRun> {
  const child = execFile(process.execPath, ['-e', APPS_SCRIPT_RUNNER], { timeout: 20_000 });
  child.stdin!.end(JSON.stringify({ script, call, rows }));
  let stdout = '';
  child.stdout!.on('data', (chunk: string) => (stdout += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  expect(code).toBe(0);
  return JSON.parse(stdout);
}

for (const dialect of testDialects()) {
  describe(`client examples run against a listening server (${dialect})`, () => {
    let t: TestApp;
    let key: string;
    let base: string;
    let examples: Map<string, string>;
    let dir: string;

    beforeAll(async () => {
      t = await startTestApp(dialect);
      key = (await t.createAccount('unlimited')).apiKey;
      await t.app.listen({ host: '127.0.0.1', port: 0 });
      base = `http://127.0.0.1:${(t.app.server.address() as net.AddressInfo).port}`;
      examples = quickStartExamples(base, key);
      dir = mkdtempSync(path.join(os.tmpdir(), 'examples-'));
    });
    afterAll(async () => {
      rmSync(dir, { recursive: true, force: true });
      await t.close();
    });

    async function expectSent(messageId: string | undefined, text?: string) {
      expect(messageId).toMatch(/\S/);
      const row = await t.runtime.store.db.selectFrom('messages').selectAll().where('id', '=', messageId!).executeTakeFirstOrThrow();
      expect(row).toMatchObject({ recipient: '12125551234', status: 'sent', ...(text === undefined ? {} : { text }) });
    }

    it("runs the README quick start's curl commands", async () => {
      const commands = shellCommands(readmeBlocks('Quick start')[0]!.code).filter((c) => c.startsWith('curl '));
      expect(commands.length).toBeGreaterThan(0);
      let lastMessageId: string | undefined;
      for (const command of commands) {
        const line = command.replace(/\s+#.*$/, '').replaceAll('http://localhost:3000', base).replaceAll('<messageId>', lastMessageId ?? '');
        const { stdout } = await run('bash', ['-c', line], { env: { ...process.env, KEY: key }, timeout: 15_000 });
        const answer = JSON.parse(stdout) as { success: boolean; messageId?: string };
        expect(answer, line).toMatchObject({ success: true });
        if (answer.messageId) {
          await expectSent(answer.messageId);
          lastMessageId = answer.messageId;
        }
      }
    });

    it('Quick start page: the browser URL', async () => {
      const res = await fetch(examples.get('browser')!);
      expect(res.status).toBe(200);
      await expectSent(((await res.json()) as { messageId: string }).messageId, 'Hello from MessageAPI');
    });

    it('Quick start page: cURL', async () => {
      const { stdout } = await run('bash', ['-c', examples.get('curl')!], { timeout: 15_000 });
      await expectSent(JSON.parse(stdout).messageId, 'Hello from MessageAPI');
    });

    it('Quick start page: PHP (php-cli with curl)', async () => {
      const file = path.join(dir, 'send.php');
      writeFileSync(file, examples.get('php')!);
      const { stdout } = await run('php', [file], { timeout: 15_000 });
      await expectSent(/^Sent: (\S+)\n$/.exec(stdout)?.[1], 'Hello from MessageAPI');
    });

    it('Quick start page: Python (requests)', async () => {
      const { stdout } = await run('python3', ['-c', examples.get('python')!], { timeout: 15_000 });
      await expectSent(stdout.trim(), 'Hello from MessageAPI');
    });

    it('Quick start page: Node.js', async () => {
      const file = path.join(dir, 'send.mjs');
      writeFileSync(file, examples.get('node')!);
      const { stdout } = await run(process.execPath, [file], { timeout: 15_000 });
      await expectSent(stdout.trim(), 'Hello from MessageAPI');
    });

    it('Quick start page: Google Sheets Apps Script, with UrlFetchApp making the real request', async () => {
      // A menu action, not a custom function: nothing is sent when the sheet loads or recalculates.
      const opened = await runAppsScript(examples.get('sheets')!, 'onOpen()');
      expect(opened.requests).toHaveLength(0);
      expect(opened.menus).toEqual([{ name: 'WhatsApp', items: [['Send selected rows', 'sendSelectedRows']] }]);
      const { requests, written } = await runAppsScript(examples.get('sheets')!, 'sendSelectedRows()', [[12125551234, 'From a sheet']]);
      expect(requests).toHaveLength(1);
      expect(requests[0]).toMatchObject({ url: `${base}/api/v1/send`, options: { method: 'post', contentType: 'application/json', headers: { 'X-API-Key': key } } });
      expect(written).toEqual([{ row: 2, column: 3, value: 'sent' }]);
      const [row] = await t.runtime.store.db.selectFrom('messages').selectAll().where('text', '=', 'From a sheet').execute();
      expect(row).toMatchObject({ recipient: '12125551234', status: 'sent' });
    });

    it('renders every example on the Quick start page (a new one needs a test here)', () => {
      expect([...examples.keys()].sort()).toEqual(['browser', 'curl', 'node', 'php', 'python', 'sheets']);
    });
  });
}
