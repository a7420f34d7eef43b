import { createHash } from 'node:crypto';
import type { Store, Tx } from '../store/store.js';
import { AppError } from './errors.js';
import { newId, randomBase62 } from './ids.js';

export const API_KEY_PATTERN = /^msg_[0-9A-Za-z]{32,64}$/;

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export interface CreatedKey {
  id: string;
  prefix: string;
  apiKey: string;
  name: string | null;
}

/** Makes a key and stores only its hash; the caller shows `apiKey` once. A blank name is no name. */
export async function createApiKey(tx: Tx, accountId: string, now: number, name?: string | null): Promise<CreatedKey> {
  const apiKey = `msg_${randomBase62(40)}`;
  const id = newId('key');
  const prefix = apiKey.slice(0, 10);
  const label = name?.trim() || null;
  await tx
    .insertInto('api_keys')
    .values({ id, account_id: accountId, prefix, key_hash: hashApiKey(apiKey), created_at: now, last_used_at: null, revoked_at: null, name: label })
    .execute();
  return { id, prefix, apiKey, name: label };
}

/** A new key for the account through the API, refused (429) while it already has `max` active keys. */
export async function createApiKeyWithinLimit(store: Store, accountId: string, now: number, max: number, name?: string | null): Promise<CreatedKey> {
  return store.write(async (tx) => {
    // Concurrent requests of one account count each other's keys (SQLite has a single writer).
    if (store.locksRows) await tx.selectFrom('accounts').select('id').where('id', '=', accountId).forUpdate().execute();
    const { count } = await tx
      .selectFrom('api_keys')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('account_id', '=', accountId)
      .where('revoked_at', 'is', null)
      .executeTakeFirstOrThrow();
    if (Number(count) >= max) {
      throw new AppError('too_many_requests', `This account already has ${max} active API keys, the most it can have: revoke one it no longer uses first.`);
    }
    return createApiKey(tx, accountId, now, name);
  });
}

export async function revokeApiKey(store: Store, keyId: string, now: number, accountId?: string): Promise<void> {
  const result = await store.write(async (tx) => {
    let q = tx.updateTable('api_keys').set({ revoked_at: now }).where('id', '=', keyId).where('revoked_at', 'is', null);
    if (accountId) q = q.where('account_id', '=', accountId);
    return q.executeTakeFirst();
  });
  if (Number(result.numUpdatedRows) === 0) throw new AppError('not_found', `No active API key with id ${keyId}.`);
}

export async function listApiKeys(store: Store, accountId: string) {
  const rows = await store.db
    .selectFrom('api_keys')
    .select(['id', 'prefix', 'name', 'created_at', 'last_used_at', 'revoked_at'])
    .where('account_id', '=', accountId)
    .orderBy('created_at', 'desc')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    prefix: r.prefix,
    name: r.name,
    createdAt: new Date(r.created_at).toISOString(),
    lastUsedAt: r.last_used_at === null ? null : new Date(r.last_used_at).toISOString(),
    revokedAt: r.revoked_at === null ? null : new Date(r.revoked_at).toISOString(),
  }));
}
