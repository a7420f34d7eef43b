import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FREE_FAILURES } from '../../src/core/login-throttle.js';
import { testDialects } from '../helpers/databases.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * Issue 12 point 3: a flood of bogus sign-ins must not stall the gateway. A sign-in refused before
 * its password is checked (429 locked, 503 hashing full) is answered late and in single file, so a
 * client keeping many in flight gets few answers a second. The checks here are lower bounds on
 * time (load only makes answers later), or the order in which answers arrive.
 */
const STILL = Date.parse('2026-11-25T10:00:00Z');
let counter = 0;
const uniqueEmail = (name: string) => `${name}-${++counter}-${Math.random().toString(36).slice(2, 8)}@example.com`;

for (const dialect of testDialects()) {
  describe(`refused sign-ins are answered late and in single file (${dialect})`, () => {
    const DELAY_MS = 300;
    const PER_SECOND = 10;
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp(dialect, {
        clock: () => STILL,
        env: { SIGNIN_REFUSAL_DELAY_MS: String(DELAY_MS), SIGNIN_REFUSALS_PER_SECOND: String(PER_SECOND), PASSWORD_HASH_CONCURRENCY: '1', PASSWORD_HASH_QUEUE: '0' },
      });
    });
    afterAll(() => t.close());

    const signIn = (remoteAddress: string, email = uniqueEmail('nobody')) =>
      t.inject({ method: 'POST', url: '/auth/login', remoteAddress, payload: { email, password: 'a wrong password' } });

    it('answers sign-ins from a locked address no sooner than the delay, and no more than the allowed number a second', async () => {
      for (let i = 0; i < FREE_FAILURES; i++) expect((await signIn('10.4.0.1')).statusCode).toBe(401);
      const started = performance.now();
      const answeredAfter: number[] = [];
      const answers = await Promise.all(
        Array.from({ length: 10 }, async () => {
          const res = await signIn('10.4.0.1');
          answeredAfter.push(performance.now() - started);
          return res;
        }),
      );
      expect(answers.map((a) => a.statusCode)).toEqual(Array(10).fill(429));
      expect(answers[0]!.json()).toMatchObject({ success: false, code: 'too_many_requests' });
      expect(Number(answers[0]!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      answeredAfter.sort((a, b) => a - b);
      expect(answeredAfter[0]).toBeGreaterThanOrEqual(DELAY_MS - 5);
      // ten in single file at ten a second: the last at least 0.9 s after the first could go
      expect(answeredAfter[9]).toBeGreaterThanOrEqual(DELAY_MS + (9 * 1000) / PER_SECOND - 5);
    });

    it('answers a sign-in refused for want of a hashing worker late too', async () => {
      const started = performance.now();
      const timed = await Promise.all(
        Array.from({ length: 4 }, async (_, i) => {
          const res = await signIn(`10.4.1.${i + 1}`);
          return { status: res.statusCode, after: performance.now() - started, body: res.json() };
        }),
      );
      const busy = timed.filter((a) => a.status === 503);
      const checked = timed.filter((a) => a.status === 401);
      // one hashing worker, no queue: one is checked, the others are refused
      expect(checked).toHaveLength(1);
      expect(busy).toHaveLength(3);
      expect(busy[0]!.body).toMatchObject({ success: false, code: 'service_unavailable' });
      for (const answer of busy) expect(answer.after).toBeGreaterThanOrEqual(DELAY_MS - 5);
    });
  });

  describe(`refusals held at once are bounded (${dialect})`, () => {
    let t: TestApp;
    let closed = false;
    beforeAll(async () => {
      // A delay far longer than any test: only the bound (or closing) can answer early.
      t = await startTestApp(dialect, { clock: () => STILL, env: { SIGNIN_REFUSAL_DELAY_MS: '60000', SIGNIN_REFUSALS_HELD_MAX: '2' } });
    });
    afterAll(async () => {
      if (!closed) await t.close();
    });

    it('answers at once beyond SIGNIN_REFUSALS_HELD_MAX, and every held refusal when the server closes', async () => {
      const address = '10.4.2.1';
      for (let i = 0; i < FREE_FAILURES; i++) {
        expect((await t.inject({ method: 'POST', url: '/auth/login', remoteAddress: address, payload: { email: uniqueEmail('nobody'), password: 'a wrong password' } })).statusCode).toBe(401);
      }
      const settled: number[] = [];
      const pending = [0, 1, 2].map((i) =>
        t.inject({ method: 'POST', url: '/auth/login', remoteAddress: address, payload: { email: uniqueEmail('nobody'), password: 'a wrong password' } }).then((res) => {
          settled.push(i);
          return res;
        }),
      );
      // the first to arrive back is answered while two are held for a minute
      const first = await Promise.race(pending);
      expect(first.statusCode).toBe(429);
      expect(settled).toHaveLength(1);
      closed = true;
      await t.close();
      const all = await Promise.all(pending);
      expect(all.map((a) => a.statusCode)).toEqual([429, 429, 429]);
    });
  });
}
