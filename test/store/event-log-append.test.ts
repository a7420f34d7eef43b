import { describe, expect, it } from 'vitest';
import { createAccount } from '../../src/core/accounts.js';
import { appendEvents, readEvents } from '../../src/core/event-log.js';
import type { Store } from '../../src/store/store.js';
import { testDialects, useTestStore } from '../helpers/databases.js';

// The event log's numbers are the pull queue's cursor: 1, 2, 3 … per account, without gaps, and
// visible in order, so a consumer that has seen N never later finds an N-1 it skipped.
for (const dialect of testDialects()) {
  describe(`the event log under concurrent appends (${dialect})`, () => {
    let store: Store;
    useTestStore(dialect, (s) => (store = s));

    it('numbers every event of an account once, without gaps, and a reader never sees a number before the one below it', async () => {
      const { id } = await createAccount(store, { email: 'log@example.com', plan: 'unlimited' }, Date.now());
      const other = await createAccount(store, { email: 'other@example.com', plan: 'unlimited' }, Date.now());
      const appends = 60;
      let done = false;
      const gapsSeen: string[] = [];
      // A reader polling all along: what it sees is always 1..N with nothing missing.
      const reader = (async () => {
        while (!done) {
          const seen = (await readEvents(store, id, 0, 1_000)).map((e) => e.cursor);
          if (seen.some((cursor, i) => cursor !== i + 1)) gapsSeen.push(seen.join(','));
          await new Promise((r) => setTimeout(r, 2));
        }
      })();
      await Promise.all(
        Array.from({ length: appends }, (_, i) =>
          store.write(async (tx) => {
            // one to three events a transaction, and another account's in between
            const entries = Array.from({ length: (i % 3) + 1 }, (_, j) => ({ id: `evt_${i}_${j}`, event: 'message.received', body: `{"i":${i},"j":${j}}` }));
            await appendEvents(tx, store.dialect, id, entries, Date.now());
            if (i % 4 === 0) await appendEvents(tx, store.dialect, other.id, [{ id: `evt_other_${i}`, event: 'message.received', body: '{}' }], Date.now());
          }),
        ),
      );
      done = true;
      await reader;
      expect(gapsSeen).toEqual([]);
      const events = await readEvents(store, id, 0, 1_000);
      const total = Array.from({ length: appends }, (_, i) => (i % 3) + 1).reduce((a, b) => a + b, 0);
      expect(events.map((e) => e.cursor)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      expect(new Set(events.map((e) => e.id)).size).toBe(total);
      // each transaction's events are consecutive, in the order given
      const byAppend = new Map<string, number[]>();
      for (const e of events) {
        const [, i] = e.id.split('_');
        byAppend.set(i!, [...(byAppend.get(i!) ?? []), e.cursor]);
      }
      for (const cursors of byAppend.values()) expect(cursors).toEqual(cursors.map((_, k) => cursors[0]! + k));
      expect(JSON.parse(events.find((e) => e.id === 'evt_7_1')!.body)).toEqual({ i: 7, j: 1 });
      expect((await readEvents(store, other.id, 0, 100)).map((e) => e.cursor)).toEqual(Array.from({ length: appends / 4 }, (_, i) => i + 1));
    });
  });
}
