import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { countUsage, readUsage, WINDOW_BUCKETS, BUCKET_MS } from '../../src/core/quota.js';
import type { Store } from '../../src/store/store.js';
import { testDialects, useTestStore } from '../helpers/databases.js';

for (const dialect of testDialects()) {
  describe(`rolling 24-hour usage (${dialect})`, () => {
    let store: Store;
    useTestStore(dialect, (s) => (store = s));

    it('counts exactly the messages of the last 1,440 minutes, across hour boundaries, and says when the oldest leaves', async () => {
      const start = Date.UTC(2026, 10, 20, 7, 43, 12);
      // 300 messages spread irregularly over 40 hours, some failed again.
      const times: number[] = [];
      let t = start;
      for (let i = 0; i < 300; i++) {
        t += ((i * 7919) % 17) * 3 * 60_000 + 13_000;
        times.push(t);
      }
      const failed = new Set([3, 50, 51, 199]);
      await store.write(async (tx) => {
        for (const [i, at] of times.entries()) {
          const message = { accountId: 'acc', messageId: randomUUID(), createdAt: at };
          await countUsage(tx, message, 1);
          if (failed.has(i)) await countUsage(tx, message, -1);
        }
      });
      const live = times.filter((_, i) => !failed.has(i));
      for (const now of [t, t - 5 * 3600_000, t - 13 * 3600_000 + 7_000, start + 25 * 3600_000 + 59_999]) {
        const firstOutside = Math.floor(now / BUCKET_MS) - WINDOW_BUCKETS;
        // (probes before the last message also count the ones after them, as there are none in real life)
        const expected = live.filter((at) => Math.floor(at / BUCKET_MS) > firstOutside);
        const usage = await readUsage(store.db, 'acc', now);
        expect(usage.count, new Date(now).toISOString()).toBe(expected.length);
        if (expected.length > 0) {
          const oldestMinute = Math.min(...expected.map((at) => Math.floor(at / BUCKET_MS)));
          expect(usage.resetSeconds).toBe(Math.max(1, Math.ceil(((oldestMinute + WINDOW_BUCKETS) * BUCKET_MS - now) / 1000)));
        }
      }
      expect(await readUsage(store.db, 'someone-else', t)).toEqual({ count: 0, resetSeconds: 0 });
    });
  });
}
