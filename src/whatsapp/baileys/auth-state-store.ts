import { BufferJSON, initAuthCreds, proto, type AuthenticationCreds, type AuthenticationState, type SignalDataSet, type SignalDataTypeMap, type SignalKeyStore } from 'baileys';
import { SecretBox } from '../../core/secret-box.js';
import type { Store } from '../../store/store.js';

type KeyType = keyof SignalDataTypeMap;

/** Every signal key type Baileys 7 stores; `keys.set` accepts only these. */
export const SIGNAL_KEY_TYPES: readonly KeyType[] = [
  'pre-key',
  'session',
  'sender-key',
  'sender-key-memory',
  'app-state-sync-key',
  'app-state-sync-version',
  'lid-mapping',
  'device-list',
  'tctoken',
  'identity-key',
];

/** A linked device has an account identity signed by the phone (set on pair-success). */
export function isLinked(creds: AuthenticationCreds): boolean {
  return Boolean(creds.me?.id && creds.account);
}

/**
 * The Baileys auth state of each session, in the database rather than files. Every value is
 * encrypted with SecretBox (AES-256-GCM, fresh nonce per write) and sealed together with its
 * account, type and id, so a row copied onto another key does not decrypt into a valid value.
 * Each `keys.set` is one transaction; a `null` value deletes.
 */
export class AuthStateStore {
  private readonly box: SecretBox;

  constructor(
    private readonly store: Store,
    secret: string,
    private readonly clock: () => number = Date.now,
  ) {
    this.box = new SecretBox(secret);
  }

  /** The stored creds, or `undefined` when this account has none. */
  async loadCreds(accountId: string): Promise<AuthenticationCreds | undefined> {
    const row = await this.store.db.selectFrom('wa_auth_creds').select('data').where('account_id', '=', accountId).executeTakeFirst();
    if (!row) return undefined;
    return this.open(row.data, accountId, 'creds', '') as AuthenticationCreds;
  }

  async saveCreds(accountId: string, creds: AuthenticationCreds): Promise<void> {
    const data = this.seal(creds, accountId, 'creds', '');
    const linked = isLinked(creds) ? 1 : 0;
    const now = this.clock();
    await this.store.write((tx) =>
      tx
        .insertInto('wa_auth_creds')
        .values({ account_id: accountId, data, linked, updated_at: now })
        .onConflict((oc) => oc.column('account_id').doUpdateSet({ data, linked, updated_at: now }))
        .execute(),
    );
  }

  /** Forgets the device: creds and every key, in one transaction. */
  async clear(accountId: string): Promise<void> {
    await this.store.write(async (tx) => {
      await tx.deleteFrom('wa_auth_keys').where('account_id', '=', accountId).execute();
      await tx.deleteFrom('wa_auth_creds').where('account_id', '=', accountId).execute();
    });
  }

  /** Accounts whose device is linked: the sessions to bring back on start. */
  async linkedAccounts(): Promise<string[]> {
    const rows = await this.store.db.selectFrom('wa_auth_creds').select('account_id').where('linked', '=', 1).orderBy('account_id').execute();
    return rows.map((r) => r.account_id);
  }

  keys(accountId: string): SignalKeyStore {
    return {
      get: async <T extends KeyType>(type: T, ids: string[]) => {
        const result: { [id: string]: SignalDataTypeMap[T] } = {};
        if (ids.length === 0) return result;
        const rows = [];
        // Chunked so a large `in (…)` stays under every driver's parameter limit.
        for (let i = 0; i < ids.length; i += 500) {
          const chunk = ids.slice(i, i + 500);
          rows.push(
            ...(await this.store.db
              .selectFrom('wa_auth_keys')
              .select(['key_id', 'data'])
              .where('account_id', '=', accountId)
              .where('type', '=', type)
              .where('key_id', 'in', chunk)
              .execute()),
          );
        }
        for (const row of rows) {
          let value = this.open(row.data, accountId, type, row.key_id);
          if (type === 'app-state-sync-key' && value) value = proto.Message.AppStateSyncKeyData.fromObject(value as object);
          result[row.key_id] = value as SignalDataTypeMap[T];
        }
        return result;
      },
      set: async (data: SignalDataSet) => {
        const writes: Array<{ type: string; id: string; data: string | null }> = [];
        for (const [type, values] of Object.entries(data)) {
          if (!SIGNAL_KEY_TYPES.includes(type as KeyType)) throw new Error(`Unknown signal key type "${type}".`);
          for (const [id, value] of Object.entries(values ?? {})) {
            writes.push({ type, id, data: value === null || value === undefined ? null : this.seal(value, accountId, type, id) });
          }
        }
        if (writes.length === 0) return;
        await this.store.write(async (tx) => {
          for (const w of writes) {
            const sealed = w.data;
            if (sealed === null) {
              await tx.deleteFrom('wa_auth_keys').where('account_id', '=', accountId).where('type', '=', w.type).where('key_id', '=', w.id).execute();
              continue;
            }
            await tx
              .insertInto('wa_auth_keys')
              .values({ account_id: accountId, type: w.type, key_id: w.id, data: sealed })
              .onConflict((oc) => oc.columns(['account_id', 'type', 'key_id']).doUpdateSet({ data: sealed }))
              .execute();
          }
        });
      },
      clear: async () => {
        await this.store.write((tx) => tx.deleteFrom('wa_auth_keys').where('account_id', '=', accountId).execute());
      },
    };
  }

  /** The state a socket runs with: stored creds (or fresh ones) and the database key store. */
  async state(accountId: string): Promise<AuthenticationState> {
    return { creds: (await this.loadCreds(accountId)) ?? initAuthCreds(), keys: this.keys(accountId) };
  }

  private seal(value: unknown, accountId: string, type: string, id: string): string {
    return this.box.encrypt(JSON.stringify({ a: accountId, t: type, i: id, v: value }, BufferJSON.replacer));
  }

  private open(sealed: string, accountId: string, type: string, id: string): unknown {
    const envelope = JSON.parse(this.box.decrypt(sealed), BufferJSON.reviver) as { a: string; t: string; i: string; v: unknown };
    if (envelope.a !== accountId || envelope.t !== type || envelope.i !== id) {
      throw new Error(`A stored WhatsApp key does not belong where it was found (${type} ${id}): the auth-state tables were edited.`);
    }
    return envelope.v;
  }
}
