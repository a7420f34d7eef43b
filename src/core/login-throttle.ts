import { queryTemplate } from '../store/query-template.js';
import type { Store, Tx } from '../store/store.js';
import { AppError } from './errors.js';

/**
 * Wrong passwords slow down per account and per client address: a few tries are free, then each
 * further failure locks that key for twice as long as the last (2 s, 4 s, 8 s … up to 15 min).
 * Failures older than the reset window are forgotten; a correct password clears the account's count.
 * Every check is reserved before the password is hashed (`reserveLoginAttempt`), so concurrency cannot outrun the lock.
 */
export const FREE_FAILURES = 5;
const MAX_DELAY_MS = 15 * 60 * 1000;
const RESET_AFTER_MS = 60 * 60 * 1000;

export function throttleKeys(email: string, address: string): [string, string] {
  return [`email:${email.trim().toLowerCase()}`, `ip:${address}`];
}

export function delayAfter(failures: number): number {
  if (failures < FREE_FAILURES) return 0;
  return Math.min(2000 * 2 ** (failures - FREE_FAILURES), MAX_DELAY_MS);
}

function lockedError(until: number, now: number): AppError {
  const seconds = Math.ceil((until - now) / 1000);
  return new AppError('too_many_requests', `Too many wrong passwords. Wait ${seconds} second${seconds === 1 ? '' : 's'} and try again.`, {
    retryAfterSeconds: seconds,
  });
}

/** The keys' rows, locked for the rest of the transaction on PostgreSQL (a row is made first if there is none to lock). */
async function lockRows(store: Store, tx: Tx, keys: string[]) {
  if (store.locksRows) {
    await tx
      .insertInto('login_attempts')
      .values(keys.map((key) => ({ key, failures: 0, last_failure_at: 0, blocked_until: 0 })))
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
  }
  let query = tx.selectFrom('login_attempts').selectAll().where('key', 'in', keys).orderBy('key');
  if (store.locksRows) query = query.forUpdate();
  return query.execute();
}

/**
 * 429 while any of the keys is locked, from one read and nothing written: the cheap answer for the
 * bulk of a flood once its lock is set. Passing it reserves nothing — a lock set a moment later is
 * still found by reserveLoginAttempt, which checks again in its transaction.
 */
export async function refuseWhileLocked(store: Store, keys: readonly [string, string], now: number): Promise<void> {
  const { rows } = await selectLockedUntil(store.db, { first: keys[0], second: keys[1] });
  const until = Number(rows[0]?.until ?? 0);
  if (until > now) throw lockedError(until, now);
}

/** On the path of every sign-in of a flood: built once (see queryTemplate). */
const selectLockedUntil = queryTemplate((db, a: { first: string; second: string }) =>
  db
    .selectFrom('login_attempts')
    .select((eb) => eb.fn.max('blocked_until').as('until'))
    .where((eb) => eb.or([eb('key', '=', a.first), eb('key', '=', a.second)])),
);

/**
 * Reserves one password check: 429 while any of the keys is locked; otherwise the attempt is
 * counted as a failure before the password is hashed, in the transaction that checked the lock.
 * So however many requests arrive at once, no more than the free tries reach the hash before the
 * lock; a correct password then gives the attempt back (`creditLoginSuccess`).
 */
export async function reserveLoginAttempt(store: Store, keys: string[], now: number): Promise<void> {
  const lockedUntil = await store.write(async (tx) => {
    const rows = await lockRows(store, tx, keys);
    const until = Math.max(0, ...rows.map((r) => r.blocked_until));
    if (until > now) return until;
    for (const key of keys) {
      const row = rows.find((r) => r.key === key);
      const failures = row && now - row.last_failure_at < RESET_AFTER_MS ? row.failures + 1 : 1;
      const blockedUntil = now + delayAfter(failures);
      await tx
        .insertInto('login_attempts')
        .values({ key, failures, last_failure_at: now, blocked_until: blockedUntil })
        .onConflict((oc) => oc.column('key').doUpdateSet({ failures, last_failure_at: now, blocked_until: blockedUntil }))
        .execute();
    }
    return 0;
  });
  if (lockedUntil > now) throw lockedError(lockedUntil, now);
}

/** Gives a reserved attempt back when its password could not be checked (the server was busy): it was never a guess. */
export async function releaseLoginAttempt(store: Store, keys: string[]): Promise<void> {
  await store.write(async (tx) => {
    for (const row of await lockRows(store, tx, keys)) {
      const failures = Math.max(0, row.failures - 1);
      const blockedUntil = Math.min(row.blocked_until, row.last_failure_at + delayAfter(failures));
      await tx.updateTable('login_attempts').set({ failures, blocked_until: blockedUntil }).where('key', '=', row.key).execute();
    }
  });
}

/**
 * After a correct password: the account's count starts over (its first key), and every other key
 * (the address) gets back the one attempt it reserved, with its lock shortened to match.
 */
export async function creditLoginSuccess(store: Store, keys: string[]): Promise<void> {
  const [accountKey, ...others] = keys;
  if (accountKey !== undefined) await store.write((tx) => tx.deleteFrom('login_attempts').where('key', '=', accountKey).execute());
  if (others.length > 0) await releaseLoginAttempt(store, others);
}

/** Forgets failures that no longer count (so a spray of made-up e-mails does not pile up rows). */
export async function pruneLoginAttempts(store: Store, now: number): Promise<void> {
  await store.write((tx) =>
    tx.deleteFrom('login_attempts').where('last_failure_at', '<', now - RESET_AFTER_MS).where('blocked_until', '<', now).execute(),
  );
}
