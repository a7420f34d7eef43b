import type { Store } from '../store/store.js';

/**
 * A few values encrypted with the operator's secret (webhook signing secrets, WhatsApp
 * credentials), to check at start that the secret is still the one they were sealed with.
 */
export async function sampleSealedValues(store: Store, perSource = 2): Promise<string[]> {
  const secrets = await store.db.selectFrom('accounts').select('webhook_secret as sealed').where('webhook_secret', 'is not', null).limit(perSource).execute();
  const creds = await store.db.selectFrom('wa_auth_creds').select('data as sealed').limit(perSource).execute();
  const keys = creds.length > 0 ? [] : await store.db.selectFrom('wa_auth_keys').select('data as sealed').limit(perSource).execute();
  return [...secrets, ...creds, ...keys].map((row) => row.sealed).filter((sealed): sealed is string => typeof sealed === 'string' && sealed !== '');
}
