import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * The session stream follows each recorded change (announced through the store's signals, with a
 * slow re-read behind): a disconnect and a new link show on it. (Across processes on PostgreSQL:
 * test/process/any-process-answers.test.ts.)
 */
for (const dialect of testDialects()) {
  describe(`the session stream follows recorded changes (${dialect})`, () => {
    let t: TestApp;
    let base: string;
    beforeAll(async () => {
      t = await startTestApp(dialect);
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      base = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
    });
    afterAll(() => t.close());

    /** The states the account's stream has sent so far; `stop` ends it. */
    async function follow(apiKey: string): Promise<{ states: string[]; stop(): Promise<void> }> {
      const controller = new AbortController();
      const states: string[] = [];
      const response = await fetch(`${base}/api/v1/session/events`, { headers: { 'x-api-key': apiKey }, signal: controller.signal });
      const reading = (async () => {
        const reader = response.body!.getReader();
        let text = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          text += new TextDecoder().decode(value);
          let end: number;
          while ((end = text.indexOf('\n\n')) >= 0) {
            const data = /^data: (.*)$/m.exec(text.slice(0, end))?.[1];
            text = text.slice(end + 2);
            if (data) states.push((JSON.parse(data) as { state: string }).state);
          }
        }
      })().catch(() => undefined);
      return {
        states,
        stop: async () => {
          controller.abort();
          await reading;
        },
      };
    }

    it('sends connected, then disconnected, then connected again', async () => {
      const { apiKey } = await t.createAccount('trial');
      const { states, stop } = await follow(apiKey);
      const post = (url: string, payload: unknown) => t.inject({ method: 'POST', url, headers: { 'x-api-key': apiKey }, payload: payload as object });
      try {
        await expect.poll(() => states, { timeout: 20_000, interval: 20 }).toEqual(['connected']);
        expect((await post('/api/v1/sandbox/disconnect', { reason: 'connection_lost' })).statusCode).toBe(200);
        await expect.poll(() => states, { timeout: 20_000, interval: 20 }).toEqual(['connected', 'disconnected']);
        expect((await post('/api/v1/session/link', {})).statusCode).toBe(200);
        await expect.poll(() => states, { timeout: 20_000, interval: 20 }).toEqual(['connected', 'disconnected', 'connected']);
      } finally {
        await stop();
      }
    }, 60_000);

    // The re-read is a timer of the stream's, the same under either database: checked once.
    if (dialect === testDialects()[0]) {
      it('shows a change whose announcement was lost at its next re-read, a few seconds later', async () => {
        const { id, apiKey } = await t.createAccount('trial');
        const { states, stop } = await follow(apiKey);
        try {
          await expect.poll(() => states, { timeout: 20_000, interval: 20 }).toEqual(['connected']);
          // Written as recordSessionChange writes it, without the signal that announces it.
          await t.runtime.store.write((tx) =>
            tx
              .insertInto('wa_sessions')
              .values({ account_id: id, state: 'disconnected', phone: null, reason: 'connection_lost', detail: 'Lost.', updated_at: Date.now() })
              .execute(),
          );
          // The stream re-reads every 5 s; the sandbox keeps a state it read for 1 s.
          await expect.poll(() => states, { timeout: 15_000, interval: 50 }).toEqual(['connected', 'disconnected']);
        } finally {
          await stop();
        }
      }, 30_000);
    }
  });
}
