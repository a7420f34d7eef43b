import type { Selectable } from 'kysely';
import { PLAN_NAMES, type PlanName } from '../config.js';
import type { AccountsTable } from '../store/schema.js';
import { queryTemplate } from '../store/query-template.js';
import type { Store, Tx } from '../store/store.js';
import { API_KEY_PATTERN, createApiKey, hashApiKey } from './api-keys.js';
import { AppError } from './errors.js';
import { KeyCache } from './key-cache.js';
import { newId } from './ids.js';

export interface Account {
  id: string;
  email: string;
  plan: PlanName;
  subscriptionExpiresAt: number | null;
  active: boolean;
  isAdmin: boolean;
  webhookUrl: string | null;
  disconnectEmail: boolean;
  createdAt: number;
}

export function toAccount(row: Selectable<AccountsTable>): Account {
  return {
    id: row.id,
    email: row.email,
    plan: row.plan as PlanName,
    subscriptionExpiresAt: row.subscription_expires_at,
    active: row.active === 1,
    isAdmin: row.is_admin === 1,
    webhookUrl: row.webhook_url,
    disconnectEmail: row.disconnect_email === 1,
    createdAt: row.created_at,
  };
}

export function isPlanName(value: string): value is PlanName {
  return (PLAN_NAMES as readonly string[]).includes(value);
}

export function isSubscriptionActive(account: Account, now: number): boolean {
  return account.active && (account.subscriptionExpiresAt === null || account.subscriptionExpiresAt > now);
}

/** A disabled account can do nothing at all with its keys or its sign-ins (not only send). */
export function requireEnabled(account: Account): Account {
  if (!account.active) throw new AppError('account_disabled', 'This account is disabled. Ask the operator of this server.');
  return account;
}

const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export interface NewAccount {
  email: string;
  plan: string;
  expiresAt?: number | null;
  isAdmin?: boolean;
  /** A hash from hashPassword, when the account gets its dashboard password at once. */
  passwordHash?: string | null;
}

/** The checks a new account must pass, cheap enough to run before anything costly (hashing, a one-time token). */
export function validateNewAccount(input: Pick<NewAccount, 'email' | 'plan'>): { email: string; plan: PlanName } {
  const email = input.email.trim().toLowerCase();
  if (!EMAIL_PATTERN.test(email)) throw new AppError('invalid_parameter', `"${input.email}" is not a valid e-mail address.`);
  if (!isPlanName(input.plan)) {
    throw new AppError('invalid_parameter', `Unknown plan "${input.plan}": use one of ${PLAN_NAMES.join(', ')}.`);
  }
  return { email, plan: input.plan };
}

/** Creates the account and its first API key inside the caller's transaction. */
export async function insertAccount(tx: Tx, input: NewAccount, now: number) {
  const { email, plan } = validateNewAccount(input);
  const id = newId('acc');
  await tx
    .insertInto('accounts')
    .values({
      id,
      email,
      password_hash: input.passwordHash ?? null,
      plan,
      subscription_expires_at: input.expiresAt ?? null,
      active: 1,
      is_admin: input.isAdmin ? 1 : 0,
      webhook_url: null,
      webhook_secret: null,
      disconnect_email: 1,
      created_at: now,
    })
    .execute();
  const key = await createApiKey(tx, id, now);
  return { id, email, plan, apiKey: key.apiKey, keyId: key.id };
}

export async function createAccount(store: Store, input: NewAccount, now: number) {
  const { email } = validateNewAccount(input);
  try {
    return await store.write((tx) => insertAccount(tx, input, now));
  } catch (error) {
    if (/unique|duplicate/i.test(String((error as Error).message))) {
      throw new AppError('conflict', `An account with e-mail ${email} already exists.`);
    }
    throw error;
  }
}

export async function getAccount(db: Tx, id: string): Promise<Account | undefined> {
  const row = await db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toAccount(row) : undefined;
}

export async function listAccounts(store: Store): Promise<Account[]> {
  const rows = await store.db.selectFrom('accounts').selectAll().orderBy('created_at').execute();
  return rows.map(toAccount);
}

export async function setPlan(store: Store, id: string, plan: string, expiresAt: number | null | undefined): Promise<Account> {
  if (!isPlanName(plan)) throw new AppError('invalid_parameter', `Unknown plan "${plan}": use one of ${PLAN_NAMES.join(', ')}.`);
  return store.write(async (tx) => {
    const patch: { plan: string; subscription_expires_at?: number | null } = { plan };
    if (expiresAt !== undefined) patch.subscription_expires_at = expiresAt;
    const result = await tx.updateTable('accounts').set(patch).where('id', '=', id).executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) throw new AppError('not_found', `No account with id ${id}.`);
    return (await getAccount(tx, id))!;
  });
}

const LAST_USED_RESOLUTION_MS = 60_000;

type KeyRow = Selectable<AccountsTable> & { key_id: string; revoked_at: number | null };

const accountByKeyHash = queryTemplate((db, a: { keyHash: string }) =>
  db
    .selectFrom('api_keys')
    .innerJoin('accounts', 'accounts.id', 'api_keys.account_id')
    .selectAll('accounts')
    .select(['api_keys.id as key_id', 'api_keys.revoked_at'])
    .where('api_keys.key_hash', '=', a.keyHash),
);

/**
 * Resolves an API key to its account. A missing, malformed, unknown or revoked key is the same
 * 401 so that nobody can probe which keys exist; a valid key of a disabled account is 403
 * `account_disabled`.
 */
export class KeyAuthenticator {
  private readonly lastUsedWritten = new Map<string, number>();
  private readonly keys: KeyCache<KeyRow>;

  constructor(private readonly store: Store) {
    this.keys = new KeyCache(() => store.accountsVersion);
  }

  async authenticate(key: string | undefined, now: number): Promise<Account> {
    if (!key) throw new AppError('invalid_api_key', 'Missing API key: send it in the X-API-Key header.');
    if (!API_KEY_PATTERN.test(key)) throw new AppError('invalid_api_key', 'Invalid API key: keys look like msg_ followed by 32 or more letters and digits.');
    const keyHash = hashApiKey(key);
    const row = await this.keys.get(keyHash, async () => (await accountByKeyHash(this.store.db, { keyHash })).rows[0]);
    if (!row || row.revoked_at !== null) throw new AppError('invalid_api_key', 'Invalid API key: it is unknown or has been revoked.');
    this.touch(row.key_id, now);
    return requireEnabled(toAccount(row));
  }

  /** Records the last use at minute resolution, off the request path. */
  private touch(keyId: string, now: number): void {
    const previous = this.lastUsedWritten.get(keyId) ?? 0;
    if (now - previous < LAST_USED_RESOLUTION_MS) return;
    this.lastUsedWritten.set(keyId, now);
    this.store
      .write((tx) => tx.updateTable('api_keys').set({ last_used_at: now }).where('id', '=', keyId).execute())
      .catch(() => this.lastUsedWritten.delete(keyId));
  }
}
