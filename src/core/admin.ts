import { sql } from 'kysely';
import type { Store } from '../store/store.js';
import { getAccount, toAccount, type Account } from './accounts.js';
import { endAllBrowserSessions } from './browser-sessions.js';
import { AppError } from './errors.js';
import { hashPassword } from './passwords.js';

/** Sets (or resets) an account's dashboard password and signs it out of every browser. */
export async function setPassword(store: Store, accountId: string, password: string): Promise<void> {
  const hash = await hashPassword(password);
  const result = await store.write((tx) => tx.updateTable('accounts').set({ password_hash: hash }).where('id', '=', accountId).executeTakeFirst());
  if (Number(result.numUpdatedRows) === 0) throw new AppError('not_found', `No account with id ${accountId}.`);
  await endAllBrowserSessions(store, accountId);
}

export async function findAccountByEmail(store: Store, email: string) {
  return store.db.selectFrom('accounts').selectAll().where('email', '=', email.trim().toLowerCase()).executeTakeFirst();
}

export interface AccountPatch {
  active?: boolean;
  isAdmin?: boolean;
}

/**
 * Disables, enables, promotes or demotes an account, as the admin `actorId`. The last enabled
 * admin cannot be disabled or demoted (409). The checks and the change share one transaction, and
 * on PostgreSQL the enabled admins' rows are locked first: two admins disabling each other at once
 * cannot both succeed, and an admin disabled or demoted while its request was on its way is
 * refused (403) instead of acting with the rights it just lost.
 */
export async function updateAccountFlags(store: Store, accountId: string, patch: AccountPatch, actorId?: string): Promise<Account> {
  return store.write(async (tx) => {
    let admins = tx.selectFrom('accounts').select('id').where('is_admin', '=', 1).where('active', '=', 1).orderBy('id');
    if (store.locksRows) admins = admins.forUpdate();
    const enabledAdmins = (await admins.execute()).map((row) => row.id);
    if (actorId !== undefined && !enabledAdmins.includes(actorId)) {
      const actor = await getAccount(tx, actorId);
      if (!actor?.active) throw new AppError('account_disabled', 'This account is disabled. Ask the operator of this server.');
      throw new AppError('forbidden', 'This needs an admin account.');
    }
    const removesAdmin = patch.active === false || patch.isAdmin === false;
    if (removesAdmin && enabledAdmins.includes(accountId) && enabledAdmins.length === 1) {
      throw new AppError('conflict', 'This is the last enabled admin account: it cannot be disabled or lose its admin rights. Make another account an admin first.');
    }
    const set: { active?: number; is_admin?: number } = {};
    if (patch.active !== undefined) set.active = patch.active ? 1 : 0;
    if (patch.isAdmin !== undefined) set.is_admin = patch.isAdmin ? 1 : 0;
    if (Object.keys(set).length > 0) await tx.updateTable('accounts').set(set).where('id', '=', accountId).execute();
    const account = await getAccount(tx, accountId);
    if (!account) throw new AppError('not_found', `No account with id ${accountId}.`);
    return account;
  });
}

/** Accounts by e-mail, optionally those containing `query`, paged by e-mail. */
export async function searchAccounts(store: Store, options: { query?: string; limit: number; after?: string }) {
  let q = store.db.selectFrom('accounts').selectAll();
  const needle = options.query?.trim().toLowerCase();
  if (needle) {
    const pattern = `%${needle.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    q = q.where((eb) => eb.or([sql<boolean>`${eb.ref('email')} like ${pattern} escape '\\'`, eb('id', '=', needle)]));
  }
  if (options.after !== undefined) q = q.where('email', '>', options.after);
  const rows = await q.orderBy('email').limit(options.limit + 1).execute();
  const page = rows.slice(0, options.limit).map((row) => ({ account: toAccount(row), hasPassword: row.password_hash !== null }));
  return { page, more: rows.length > options.limit };
}

export const DAY_MS = 24 * 60 * 60 * 1000;

export interface DayCount {
  date: string;
  sent: number;
  failed: number;
  pending: number;
}

/** Messages per UTC day for the last `days` days (today included), oldest first, every day present. */
export async function dailyCounts(store: Store, accountId: string, days: number, now: number): Promise<DayCount[]> {
  const firstDay = Math.floor(now / DAY_MS) - (days - 1);
  const day = sql<number>`created_at / ${sql.lit(DAY_MS)}`;
  const rows = await store.db
    .selectFrom('messages')
    .select([day.as('day'), 'status', (eb) => eb.fn.countAll<number>().as('n')])
    .where('account_id', '=', accountId)
    .where('created_at', '>=', firstDay * DAY_MS)
    .groupBy([day, 'status'])
    .execute();
  const out: DayCount[] = [];
  for (let i = 0; i < days; i++) {
    out.push({ date: new Date((firstDay + i) * DAY_MS).toISOString().slice(0, 10), sent: 0, failed: 0, pending: 0 });
  }
  for (const row of rows) {
    const entry = out[Number(row.day) - firstDay];
    const status = row.status as 'sent' | 'failed' | 'pending';
    if (entry && status in entry) entry[status] += Number(row.n);
  }
  return out;
}
