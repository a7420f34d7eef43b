import type { Store } from '../store/store.js';
import { AppError } from './errors.js';

/**
 * Wrong passwords slow down per account and per client address: a few tries are free, then each
 * further failure locks that key for twice as long as the last (2 s, 4 s, 8 s … up to 15 min).
 * Failures older than the reset window are forgotten; a correct password clears the account's count.
 */
export const FREE_FAILURES = 5;
const MAX_DELAY_MS = 15 * 60 * 1000;
const RESET_AFTER_MS = 60 * 60 * 1000;

export function throttleKeys(email: string, address: string): string[] {
  return [`email:${email.trim().toLowerCase()}`, `ip:${address}`];
}

export function delayAfter(failures: number): number {
  if (failures < FREE_FAILURES) return 0;
  return Math.min(2000 * 2 ** (failures - FREE_FAILURES), MAX_DELAY_MS);
}

/** Throws 429 while any of the keys is locked. */
export async function checkLoginAllowed(store: Store, keys: string[], now: number): Promise<void> {
  const rows = await store.db.selectFrom('login_attempts').selectAll().where('key', 'in', keys).execute();
  const until = Math.max(0, ...rows.map((r) => r.blocked_until));
  if (until > now) {
    const seconds = Math.ceil((until - now) / 1000);
    throw new AppError('too_many_requests', `Too many wrong passwords. Wait ${seconds} second${seconds === 1 ? '' : 's'} and try again.`, {
      retryAfterSeconds: seconds,
    });
  }
}

export async function recordLoginFailure(store: Store, keys: string[], now: number): Promise<void> {
  await store.write(async (tx) => {
    for (const key of keys) {
      const row = await tx.selectFrom('login_attempts').selectAll().where('key', '=', key).executeTakeFirst();
      const failures = row && now - row.last_failure_at < RESET_AFTER_MS ? row.failures + 1 : 1;
      const blockedUntil = now + delayAfter(failures);
      await tx
        .insertInto('login_attempts')
        .values({ key, failures, last_failure_at: now, blocked_until: blockedUntil })
        .onConflict((oc) => oc.column('key').doUpdateSet({ failures, last_failure_at: now, blocked_until: blockedUntil }))
        .execute();
    }
  });
}

export async function clearLoginFailures(store: Store, key: string): Promise<void> {
  await store.write((tx) => tx.deleteFrom('login_attempts').where('key', '=', key).execute());
}

/** Forgets failures that no longer count (so a spray of made-up e-mails does not pile up rows). */
export async function pruneLoginAttempts(store: Store, now: number): Promise<void> {
  await store.write((tx) =>
    tx.deleteFrom('login_attempts').where('last_failure_at', '<', now - RESET_AFTER_MS).where('blocked_until', '<', now).execute(),
  );
}
