import { describe, expect, it } from 'vitest';
import { createAccount, getAccount } from '../../src/core/accounts.js';
import { acceptInOneStatement } from '../../src/core/accept-in-one-statement.js';
import type { NewMessage } from '../../src/core/messages.js';
import { PRIORITY_RANK } from '../../src/core/queue/queue-fields.js';
import { parseRecipient } from '../../src/core/recipients.js';
import { testDialects, useTestStore } from '../helpers/databases.js';

const text = (to: string, body: string, priority: number = PRIORITY_RANK.normal): NewMessage => ({
  recipient: parseRecipient(to),
  kind: 'text',
  text: body,
  mediaUrl: null,
  filename: null,
  queue: { sendAt: null, expiresAt: null, priority },
});

/**
 * PostgreSQL's unlocked sends share statements when they arrive together (core/accept-in-one-statement.ts).
 * Sharing must change no answer: each message is written once with its job and its count, a
 * timelocked account's new chat is left to the general path, and one message that cannot be
 * written fails alone.
 */
for (const dialect of testDialects().filter((d) => d === 'postgres')) {
  describe(`sends sharing one statement (${dialect})`, () => {
    const t = useTestStore(dialect);

    it('writes each of 300 concurrent sends of three accounts once, leaves a timelocked new chat alone, and fails only the message that cannot be written', async () => {
      const { store } = t;
      const now = Date.now();
      const ids = [];
      for (const name of ['a', 'b', 'locked']) ids.push((await createAccount(store, { email: `${name}-${now}@example.com`, plan: 'unlimited' }, now)).id);
      const [a, b, locked] = await Promise.all(ids.map(async (id) => (await getAccount(store.db, id))!));
      await store.write((tx) =>
        tx.insertInto('account_restrictions').values({ account_id: locked!.id, timelock_active: 1, timelock_until: null, cap_used: null, cap_total: null, cap_cycle_ends_at: null, updated_at: now }).execute(),
      );

      const calls = Array.from({ length: 300 }, (_, i) => {
        const account = [a!, b!, locked!][i % 3]!;
        // Priority out of PostgreSQL's integer range: the one message no statement can write.
        const input = i === 150 ? text('12125550000', 'bad', 2 ** 40) : text(`1212555${String(1000 + (i % 7)).padStart(4, '0')}`, `m${i}`);
        return { account, input, answer: acceptInOneStatement(store, account, input, now) };
      });
      const settled = await Promise.allSettled(calls.map((c) => c.answer));

      expect(settled[150]!.status).toBe('rejected');
      const accepted = new Map<string, string>();
      settled.forEach((s, i) => {
        if (i === 150) return;
        expect(s.status, `call ${i}`).toBe('fulfilled');
        const value = (s as PromiseFulfilledResult<Awaited<(typeof calls)[number]['answer']>>).value;
        // The timelocked account's messages open new chats: refused here, for the general path to word.
        if (calls[i]!.account.id === locked!.id) expect(value, `call ${i}`).toBeNull();
        else accepted.set(value!.messageId, calls[i]!.input.text!);
      });
      expect(accepted.size).toBe(199);

      const messages = await store.db.selectFrom('messages').select(['id', 'account_id', 'text', 'status']).execute();
      expect(messages).toHaveLength(199);
      for (const m of messages) expect(accepted.get(m.id)).toBe(m.text);
      expect(messages.every((m) => m.account_id !== locked!.id && m.status === 'pending')).toBe(true);
      const jobs = await store.db.selectFrom('outbox').select(['ref', 'kind']).execute();
      expect(jobs.map((j) => j.ref).sort()).toEqual([...accepted.keys()].sort());
      for (const [table, account, expected] of [
        // Call 150 (the bad one) was a's.
        ['usage_minutes', a!.id, 99],
        ['usage_hours', a!.id, 99],
        ['usage_minutes', b!.id, 100],
        ['usage_hours', b!.id, 100],
        ['usage_minutes', locked!.id, 0],
      ] as const) {
        const row = await store.db.selectFrom(table).select((eb) => eb.fn.sum<number>('count').as('n')).where('account_id', '=', account).executeTakeFirst();
        expect(Number(row?.n ?? 0), `${table} of ${account}`).toBe(expected);
      }
    });
  });
}
