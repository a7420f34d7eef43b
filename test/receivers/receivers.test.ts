// End-to-end tests of the sample webhook receivers in receivers/: each script runs under its
// real runtime (php -S, node, python3) from a fresh temp dir, as the webhook URL, and gets real
// Standard Webhooks deliveries signed with the `standardwebhooks` package.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { launch, RECEIVERS, runtimes, start, type Started } from '../helpers/receiver-process.js';

const PLACEHOLDER = 'whsec_REPLACE_ME';

// ---------------------------------------------------------------------------------------------
// Deliveries

type Headers = Record<string, string>;

function signed(secret: string, id: string, body: string, at = new Date()): Headers {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(id, at, body),
  };
}

async function post(url: string, headers: Headers, body: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: res.status, text: await res.text() };
}

function newId(): string {
  return `evt_${randomUUID()}`;
}

function newSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

function sampleEvents() {
  const ts = new Date().toISOString();
  return {
    testIncoming: {
      event: 'message.received', timestamp: ts, test: true,
      message: { id: 'TEST-1', from: '12125551234', pushName: 'MessageAPI', type: 'text', text: 'This is a test message',
        isGroup: false, groupId: null, participant: null, timestamp: ts },
    },
    sent: {
      event: 'message.sent', timestamp: ts,
      message: { id: 'msg-sent-1', recipient: '12125550000', type: 'image', status: 'sent' },
    },
    failed: {
      event: 'message.failed', timestamp: ts,
      message: { id: 'msg-failed-1', recipient: '12125550001', type: 'text', status: 'failed', error: 'not on WhatsApp' },
    },
    received: {
      event: 'message.received', timestamp: ts,
      message: { id: '3EB0C0FFEE', from: '12125551234', pushName: 'Ann "Annie" Ö', type: 'text',
        text: 'héllo 👋\nsecond line, a/slash and a \\ backslash', isGroup: true, groupId: '120363000000@g.us',
        participant: '12125551234', timestamp: ts, extra: {}, list: [] },
    },
    disconnected: { event: 'session.disconnected', timestamp: ts, phone: '12125551234', reason: 'logged_out' },
  };
}

interface LogLine {
  webhookId: string;
  receivedAt: string;
  event: unknown;
}

function logFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.log'));
}

function logText(dir: string): string {
  const files = logFiles(dir);
  expect(files.length).toBeLessThanOrEqual(1);
  return files.length ? readFileSync(join(dir, files[0]), 'utf8') : '';
}

function logLines(dir: string): LogLine[] {
  const text = logText(dir);
  if (text === '') return [];
  expect(text.endsWith('\n')).toBe(true);
  return text.trimEnd().split('\n').map((line) => JSON.parse(line) as LogLine);
}

const ok = (status: number) => status >= 200 && status < 300;

// ---------------------------------------------------------------------------------------------

describe('webhook receiver scripts', () => {
  it.each(runtimes)('$name runtime is installed (a missing runtime fails, it is not skipped)', (rt) => {
    const r = spawnSync(rt.binary, ['--version'], { encoding: 'utf8' });
    expect(r.error, `${rt.binary} not runnable: install it (php: apt-get install -y php-cli)`).toBeUndefined();
    expect(r.status).toBe(0);
  });

  it.each(runtimes)('$file is short and has exactly one secret line to replace', (rt) => {
    const lines = readFileSync(join(RECEIVERS, rt.file), 'utf8').split('\n');
    expect(lines.length).toBeLessThan(100);
    expect(lines.filter((l) => l.includes(PLACEHOLDER))).toHaveLength(1);
    expect(lines.join('\n')).toContain('WEBHOOK_SECRET');
  });

  it('uses only the standard library in the Node.js receiver', () => {
    const src = readFileSync(join(RECEIVERS, 'receiver.mjs'), 'utf8');
    const imports = [...src.matchAll(/from '([^']+)'/g)].map((m) => m[1]);
    expect(imports.length).toBeGreaterThan(0);
    for (const name of imports) expect(name).toMatch(/^node:/);
  });

  it('ships an .htaccess that hides the log and the folder listing on Apache', () => {
    const htaccess = readFileSync(join(RECEIVERS, '.htaccess'), 'utf8');
    expect(htaccess).toMatch(/^Options -Indexes$/m);
    expect(htaccess).toMatch(/<FilesMatch "[^"]*\\\.log\$[^"]*">/);
    expect(htaccess).toMatch(/Require all denied/);
    expect(existsSync(join(RECEIVERS, 'README.md'))).toBe(true);
  });
});

describe.each(runtimes)('$name receiver under its real runtime', (rt) => {
  const secret = newSecret();
  const events = sampleEvents();
  const ids = {
    testIncoming: newId(), sent: newId(), failed: newId(), received: newId(), disconnected: newId(),
  };
  let dir = '';
  let receiver: Started | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'messageapi-receiver-'));
    copyFileSync(join(RECEIVERS, rt.file), join(dir, rt.file));
    receiver = await start(rt, dir, secret);
  }, 30_000);

  afterAll(async () => {
    await receiver?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const url = () => receiver!.url;
  const send = (id: string, payload: unknown, at?: Date) => {
    const body = JSON.stringify(payload);
    return post(url(), signed(secret, id, body, at), body);
  };
  /**
   * Makes sure these events are in the log, as the first test leaves them: a test run alone
   * (with -t) has not logged them yet. The receiver answers 200 whether or not it logs.
   */
  const ensureLogged = async (...keys: (keyof typeof ids)[]) => {
    for (const key of keys) expect((await send(ids[key], events[key])).status, key).toBe(200);
  };

  it('logs a test incoming, a sent, a failed, an incoming message and a disconnect once each', async () => {
    for (const key of Object.keys(ids) as (keyof typeof ids)[]) {
      const res = await send(ids[key], events[key]);
      expect(res.status, `${key}: ${res.text}`).toBe(200);
      expect(res.text).not.toContain('"event"'); // no echo of the body
    }
    const lines = logLines(dir);
    expect(lines.map((l) => l.webhookId)).toEqual(Object.values(ids));
    for (const [i, key] of (Object.keys(ids) as (keyof typeof ids)[]).entries()) {
      expect(lines[i].event).toEqual(events[key]);
      expect(lines[i].receivedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
      expect(Math.abs(Date.parse(lines[i].receivedAt) - Date.now())).toBeLessThan(60_000);
    }
    expect((lines[0].event as { test?: boolean }).test).toBe(true);
  });

  it('answers 2xx to a replayed webhook-id (retry, fresh timestamp) without logging it again', async () => {
    await ensureLogged('sent', 'disconnected');
    const before = logLines(dir).length;
    const retry = await send(ids.sent, events.sent, new Date(Date.now() + 2000));
    expect(ok(retry.status)).toBe(true);
    const again = await send(ids.disconnected, events.disconnected);
    expect(ok(again.status)).toBe(true);
    expect(logLines(dir)).toHaveLength(before);
  });

  it('answers 401 to a bad signature and logs nothing of the body', async () => {
    const before = logText(dir);
    const marker = `FORGED-${randomUUID()}`;
    const body = JSON.stringify({ event: 'message.received', timestamp: new Date().toISOString(), message: { text: marker } });
    const id = newId();
    const good = signed(secret, id, body);
    const cases: [string, Headers, string][] = [
      ['signed with another secret', signed(newSecret(), id, body), body],
      ['body changed after signing', signed(secret, id, JSON.stringify({ event: 'x' })), body],
      ['signature made for another webhook-id', { ...signed(secret, newId(), body), 'webhook-id': id }, body],
      ['garbage signature', { ...good, 'webhook-signature': 'v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=' }, body],
      ['unknown signature version', { ...good, 'webhook-signature': good['webhook-signature'].replace(/^v1,/, 'v2,') }, body],
      ['no signature header', { 'webhook-id': id, 'webhook-timestamp': good['webhook-timestamp'] }, body],
      ['no webhook-id', { ...signed(secret, '', body), 'webhook-id': '' }, body],
      ['no headers at all', {}, body],
    ];
    for (const [what, headers, sent] of cases) {
      const res = await post(url(), headers, sent);
      expect(res.status, what).toBe(401);
      expect(res.text, what).not.toContain(marker);
    }
    expect(logText(dir)).toBe(before);
    expect(receiver!.output()).not.toContain(marker);
  });

  it('answers 401 to a timestamp more than 5 minutes off, and accepts one 4 minutes old', async () => {
    const before = logLines(dir).length;
    const id = newId();
    const payload = { ...events.disconnected, reason: 'stale-check' };
    const body = JSON.stringify(payload);
    expect((await send(id, payload, new Date(Date.now() - 6 * 60_000))).status).toBe(401);
    expect((await send(id, payload, new Date(Date.now() + 6 * 60_000))).status).toBe(401);
    const notANumber = { ...signed(secret, id, body), 'webhook-timestamp': 'soon' };
    expect((await post(url(), notANumber, body)).status).toBe(401);
    expect(logLines(dir)).toHaveLength(before);

    // Rejected attempts must not mark the id as seen: the sender's next, fresh attempt is logged.
    expect((await send(id, payload, new Date(Date.now() - 4 * 60_000))).status).toBe(200);
    const lines = logLines(dir);
    expect(lines).toHaveLength(before + 1);
    expect(lines.at(-1)).toMatchObject({ webhookId: id, event: payload });
  });

  it('accepts a delivery when any one of several signatures matches', async () => {
    const before = logLines(dir).length;
    const id = newId();
    const payload = { ...events.sent, message: { ...events.sent.message, id: 'multi-sig' } };
    const body = JSON.stringify(payload);
    const headers = signed(secret, id, body);
    const other = signed(newSecret(), id, body)['webhook-signature'];
    headers['webhook-signature'] = `v1a,bm90IHRoaXMgb25l ${other} ${headers['webhook-signature']}`;
    expect((await post(url(), headers, body)).status).toBe(200);
    expect(logLines(dir).slice(before).map((l) => l.webhookId)).toEqual([id]);
  });

  it('logs one line when the same event arrives on several connections at once', async () => {
    const before = logLines(dir).length;
    const id = newId();
    const payload = { ...events.failed, message: { ...events.failed.message, id: 'concurrent' } };
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => send(id, payload, new Date(Date.now() - i * 1000))),
    );
    for (const res of results) expect(ok(res.status), res.text).toBe(true);
    expect(logLines(dir).slice(before).map((l) => l.webhookId)).toEqual([id]);
  });

  it('does not serve the log or the body over GET', async () => {
    await ensureLogged(...(Object.keys(ids) as (keyof typeof ids)[]));
    const [logName] = logFiles(dir);
    expect(logName).toBeDefined();
    for (const path of ['', logName, 'webhooks.log', `${rt.file}`]) {
      const res = await fetch(url() + path);
      expect(ok(res.status), path).toBe(false);
      const text = await res.text();
      for (const id of Object.values(ids)) expect(text, path).not.toContain(id);
    }
  });

  it('still skips logged ids after a restart, with the secret on its marked line instead of the env', async () => {
    await ensureLogged('received', 'testIncoming');
    await receiver!.stop();
    const script = join(dir, rt.file);
    writeFileSync(script, readFileSync(script, 'utf8').replace(PLACEHOLDER, secret));
    receiver = await start(rt, dir, undefined);
    const before = logLines(dir).length;
    expect(ok((await send(ids.received, events.received)).status)).toBe(true);
    expect(ok((await send(ids.testIncoming, events.testIncoming)).status)).toBe(true);
    expect(logLines(dir)).toHaveLength(before);
    const id = newId();
    expect((await send(id, events.disconnected)).status).toBe(200);
    expect(logLines(dir).slice(before).map((l) => l.webhookId)).toEqual([id]);
  });

  it('refuses to run while the secret is still the placeholder', async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'messageapi-receiver-unset-'));
    try {
      copyFileSync(join(RECEIVERS, rt.file), join(fresh, rt.file));
      const body = JSON.stringify(events.sent);
      if (rt.file.endsWith('.php')) {
        // A dropped-in PHP file has no process to stop: it answers 500 until configured.
        const r = await start(rt, fresh, undefined);
        try {
          expect((await post(r.url, signed(newSecret(), newId(), body), body)).status).toBe(500);
        } finally {
          await r.stop();
        }
      } else {
        const r = launch(rt, fresh, undefined);
        try {
          const code = await Promise.race([r.exited, new Promise((res) => setTimeout(() => res('still running'), 10_000))]);
          expect(code).not.toBe(0);
          expect(code).not.toBe('still running');
          expect(r.output()).toContain('WEBHOOK_SECRET');
        } finally {
          await r.stop();
        }
      }
      expect(logFiles(fresh)).toEqual([]);
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });
});
