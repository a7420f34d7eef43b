import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Store } from '../store/store.js';
import { toAccount, type Account } from './accounts.js';

/** A sign-in lasts 30 days from its last use (refreshed at most hourly), and at most 90 days in all. */
export const SESSION_IDLE_MS = 30 * 24 * 60 * 60 * 1000;
const SESSION_MAX_MS = 90 * 24 * 60 * 60 * 1000;
const REFRESH_EVERY_MS = 60 * 60 * 1000;

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

export interface BrowserSession {
  account: Account;
  csrfToken: string;
  createdAt: number;
}

/** Starts a sign-in; the returned token goes into the cookie and is stored only as a hash. */
export async function createBrowserSession(store: Store, accountId: string, userAgent: string | undefined, now: number): Promise<{ token: string; csrfToken: string }> {
  const token = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(24).toString('base64url');
  await store.write((tx) =>
    tx
      .insertInto('browser_sessions')
      .values({
        id: hashToken(token),
        account_id: accountId,
        csrf_token: csrfToken,
        user_agent: userAgent?.slice(0, 300) ?? null,
        created_at: now,
        last_seen_at: now,
        expires_at: now + SESSION_IDLE_MS,
      })
      .execute(),
  );
  return { token, csrfToken };
}

/**
 * The signed-in account behind a cookie, or undefined when it is unknown or expired. A disabled
 * account's session is returned too (with `account.active` false): the caller refuses it with
 * `account_disabled` rather than treating the browser as signed out.
 */
export async function findBrowserSession(store: Store, token: string, now: number): Promise<BrowserSession | undefined> {
  if (token.length < 20 || token.length > 100) return undefined;
  const id = hashToken(token);
  const row = await store.db
    .selectFrom('browser_sessions')
    .innerJoin('accounts', 'accounts.id', 'browser_sessions.account_id')
    .selectAll('accounts')
    .select(['browser_sessions.csrf_token', 'browser_sessions.created_at as session_created_at', 'browser_sessions.last_seen_at', 'browser_sessions.expires_at'])
    .where('browser_sessions.id', '=', id)
    .executeTakeFirst();
  if (!row || row.expires_at <= now) return undefined;
  if (now - row.last_seen_at > REFRESH_EVERY_MS) {
    const expiresAt = Math.min(now + SESSION_IDLE_MS, row.session_created_at + SESSION_MAX_MS);
    await store.write((tx) => tx.updateTable('browser_sessions').set({ last_seen_at: now, expires_at: expiresAt }).where('id', '=', id).execute());
  }
  return { account: toAccount(row), csrfToken: row.csrf_token, createdAt: row.session_created_at };
}

export function csrfMatches(expected: string, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function endBrowserSession(store: Store, token: string): Promise<void> {
  await store.write((tx) => tx.deleteFrom('browser_sessions').where('id', '=', hashToken(token)).execute());
}

/** Signs the account out of every browser (also after a password change). */
export async function endAllBrowserSessions(store: Store, accountId: string): Promise<number> {
  const result = await store.write((tx) => tx.deleteFrom('browser_sessions').where('account_id', '=', accountId).executeTakeFirst());
  return Number(result.numDeletedRows);
}

export async function pruneBrowserSessions(store: Store, now: number): Promise<void> {
  await store.write((tx) => tx.deleteFrom('browser_sessions').where('expires_at', '<=', now).execute());
}
