import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

interface SseEvent {
  id: string;
  event: string;
  data: string;
}

/** Reads server-sent events until `count` arrived, then drops the connection (a consumer killed mid-stream). */
async function readEvents(url: string, headers: Record<string, string>, count: number): Promise<{ status: number; events: SseEvent[] }> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 15_000);
  const res = await fetch(url, { headers, signal: abort.signal });
  const events: SseEvent[] = [];
  if (res.status !== 200) {
    clearTimeout(timer);
    await res.text();
    return { status: res.status, events };
  }
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    while (events.length < count) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0 && events.length < count) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const field = (name: string) => block.split('\n').find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2);
        if (field('data') !== undefined) events.push({ id: field('id')!, event: field('event')!, data: field('data')! });
      }
    }
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
  return { status: res.status, events };
}

for (const dialect of testDialects()) {
  describe(`the event stream GET /api/v1/events/stream (${dialect})`, () => {
    let t: TestApp;
    let base: string;

    beforeAll(async () => {
      t = await startTestApp(dialect, { env: { STREAMS_PER_ACCOUNT: '2', STREAM_RECHECK_MS: '200' } });
      await t.app.listen({ host: '127.0.0.1', port: 0 });
      base = `http://127.0.0.1:${(t.app.server.address() as net.AddressInfo).port}`;
    });
    afterAll(() => t.close());

    const incoming = (key: string, text: string) =>
      t.inject({ method: 'POST', url: '/api/v1/sandbox/incoming', headers: { 'x-api-key': key }, payload: { from: '12125559876', text } });
    const textOf = (e: SseEvent) => (JSON.parse(e.data) as { message: { text: string } }).message.text;

    it('a consumer killed mid-burst resumes with Last-Event-ID: no gap, no duplicate', async () => {
      const { apiKey } = await t.createAccount('unlimited');
      const burst = Promise.all(Array.from({ length: 15 }, (_, i) => incoming(apiKey, `s${i}`)));
      const first = await readEvents(`${base}/api/v1/events/stream`, { 'x-api-key': apiKey }, 6);
      expect(first.status).toBe(200);
      await burst;
      const last = first.events.at(-1)!.id;
      const second = await readEvents(`${base}/api/v1/events/stream`, { 'x-api-key': apiKey, 'last-event-id': last }, 9);
      const all = [...first.events, ...second.events];
      expect(all.map((e) => Number(e.id))).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
      expect(all.map(textOf).sort()).toEqual(Array.from({ length: 15 }, (_, i) => `s${i}`).sort());
      expect(all.every((e) => e.event === 'message.received')).toBe(true);
    });

    it('the events match what the pull queue gives, body for body', async () => {
      const { apiKey } = await t.createAccount('unlimited');
      await incoming(apiKey, 'same');
      const streamed = await readEvents(`${base}/api/v1/events/stream?after=0`, { 'x-api-key': apiKey }, 1);
      const pulled = (await t.inject({ method: 'GET', url: '/api/v1/events?after=0', headers: { 'x-api-key': apiKey } })).json();
      expect(streamed.events[0]!.data).toBe(pulled.events[0].body);
      expect(streamed.events[0]!.id).toBe(String(pulled.events[0].cursor));
    });

    it('ends when its key is revoked, and counts toward STREAMS_PER_ACCOUNT', async () => {
      const { apiKey } = await t.createAccount('unlimited');
      const opened = await Promise.all([0, 1].map(() => fetch(`${base}/api/v1/events/stream`, { headers: { 'x-api-key': apiKey } })));
      expect(opened.map((r) => r.status)).toEqual([200, 200]);
      const third = await fetch(`${base}/api/v1/events/stream`, { headers: { 'x-api-key': apiKey } });
      expect(third.status).toBe(429);
      expect(await third.json()).toMatchObject({ code: 'too_many_requests' });
      const keys = (await t.inject({ method: 'GET', url: '/api/v1/keys', headers: { 'x-api-key': apiKey } })).json().keys as Array<{ id: string }>;
      expect((await t.inject({ method: 'DELETE', url: `/api/v1/keys/${keys[0]!.id}`, headers: { 'x-api-key': apiKey } })).statusCode).toBe(200);
      // Both streams run to their end (the server closes them) instead of hanging: read each to done.
      const ends = opened.map(async (res) => {
        const reader = res.body!.getReader();
        for (;;) if ((await reader.read()).done) return true;
      });
      const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 5000).unref());
      expect(await Promise.race([Promise.all(ends).then(() => true), timeout])).toBe(true);
    });

    it('refuses Trial (plan rule) and a bad key', async () => {
      const { apiKey } = await t.createAccount('trial');
      expect((await readEvents(`${base}/api/v1/events/stream`, { 'x-api-key': apiKey }, 1)).status).toBe(403);
      expect((await readEvents(`${base}/api/v1/events/stream`, { 'x-api-key': 'msg_wrong' }, 1)).status).toBe(401);
    });
  });
}
