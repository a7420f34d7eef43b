import { createHash, randomBytes } from 'node:crypto';
import type { Store, Tx } from '../store/store.js';

/** The first-run link is valid for a day, once; a restart while there are still no accounts makes a new one. */
const SETUP_TTL_MS = 24 * 60 * 60 * 1000;

const hash = (token: string) => createHash('sha256').update(token).digest('hex');

export async function hasAnyAccount(store: Store): Promise<boolean> {
  return (await store.db.selectFrom('accounts').select('id').limit(1).executeTakeFirst()) !== undefined;
}

/** A new one-time setup token when the server has no accounts yet (older ones stop working). */
export async function issueSetupToken(store: Store, now: number): Promise<string | undefined> {
  if (await hasAnyAccount(store)) return undefined;
  const token = randomBytes(24).toString('base64url');
  await store.write(async (tx) => {
    await tx.deleteFrom('setup_tokens').execute();
    await tx.insertInto('setup_tokens').values({ token_hash: hash(token), created_at: now, expires_at: now + SETUP_TTL_MS }).execute();
  });
  return token;
}

/** Whether setup could succeed with this token (no account yet, the token known and unexpired), without using it up. Cheap: no hashing. */
export async function setupTokenUsable(store: Store, token: string, now: number): Promise<boolean> {
  if (await hasAnyAccount(store)) return false;
  const row = await store.db.selectFrom('setup_tokens').select('token_hash').where('token_hash', '=', hash(token)).where('expires_at', '>', now).executeTakeFirst();
  return row !== undefined;
}

/** Uses the token up inside the caller's transaction; false when it is unknown, used or expired. */
export async function consumeSetupToken(tx: Tx, token: string, now: number): Promise<boolean> {
  const result = await tx.deleteFrom('setup_tokens').where('token_hash', '=', hash(token)).where('expires_at', '>', now).executeTakeFirst();
  return Number(result.numDeletedRows) === 1;
}
