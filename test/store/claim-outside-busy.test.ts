import { beforeEach, describe, expect, it } from 'vitest';
import { createAccount } from '../../src/core/accounts.js';
import { claimJobs, enqueue, type OutboxKind } from '../../src/core/outbox.js';
import { testDialects, useTestStore } from '../helpers/databases.js';

/**
 * A claim that leaves out the accounts whose lanes are busy first asks, one index seek per
 * account, whether any other account has a job of its kind at all (core/outbox.ts). Skipping the
 * scan must never skip work: whatever the order of the account ids, another account's job is claimed.
 */
for (const dialect of testDialects()) {
  describe(`claims beside busy accounts (${dialect})`, () => {
    const t = useTestStore(dialect);
    // Each case starts from an empty outbox: the jobs another case left would be claimed too.
    beforeEach(() => t.store.write((tx) => tx.deleteFrom('outbox').execute()));

    async function accountWith(jobs: Array<[OutboxKind, number]>, now: number): Promise<string> {
      const { id } = await createAccount(t.store, { email: `claim-${Math.random().toString(36).slice(2)}@example.com`, plan: 'unlimited' }, now);
      await t.store.write(async (tx) => {
        for (const [kind, count] of jobs) for (let i = 0; i < count; i++) await enqueue(tx, { kind, accountId: id, ref: `${kind}-${i}`, runAt: now, now });
      });
      return id;
    }

    const claim = (kind: OutboxKind, exclude: string[], now: number) =>
      claimJobs(t.store, { kind, owner: 'test', now, limit: 100, lockMs: 60_000, excludeAccounts: exclude });

    it("claims another account's jobs of the kind, and nothing when only the busy accounts or other kinds have any", async () => {
      const now = Date.now();
      const busy = await accountWith([['webhook', 50]], now);
      const onlyMessages = await accountWith([['message', 2]], now);
      const other = await accountWith([['webhook', 1]], now);

      const webhooks = await claim('webhook', [busy], now);
      expect(webhooks.map((j) => j.account_id)).toEqual([other]);
      expect(await claim('webhook', [busy, other], now)).toEqual([]);
      const messages = await claim('message', [busy], now);
      expect(messages.map((j) => j.account_id)).toEqual([onlyMessages, onlyMessages]);
      expect(await claim('email', [busy], now)).toEqual([]);
    });

    it('leaves the answer to the claim when many accounts have jobs of other kinds only', async () => {
      const now = Date.now();
      const busy = await accountWith([['webhook', 3]], now);
      for (let i = 0; i < 70; i++) await accountWith([['email', 1]], now);
      const waiting = await accountWith([['webhook', 1]], now);

      const claimed = await claim('webhook', [busy], now);
      expect(claimed.map((j) => j.account_id)).toEqual([waiting]);
    });
  });
}
