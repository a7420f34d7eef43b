import { BufferJSON, initAuthCreds, proto, type SignalDataSet } from 'baileys';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAccount } from '../../src/core/accounts.js';
import { Store } from '../../src/store/store.js';
import { AuthStateStore, SIGNAL_KEY_TYPES, isLinked } from '../../src/whatsapp/baileys/auth-state-store.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../helpers/databases.js';

const SECRET = 'auth-state-test-secret-0123456789';

/** One value of every key type Baileys 7 stores, with a recognisable plaintext marker inside. */
function everyKeyType(marker: string): SignalDataSet {
  const bytes = (n: number) => Buffer.from(`${marker}-${n}-bytes`);
  return {
    'pre-key': { '1': { public: bytes(1), private: bytes(2) } },
    session: { '12125551234.0': bytes(3) },
    'sender-key': { '120363000000000001@g.us::12125551234::0': bytes(4) },
    'sender-key-memory': { '120363000000000001@g.us': { [`${marker}@s.whatsapp.net`]: true } },
    'app-state-sync-key': { AAAAAQ: proto.Message.AppStateSyncKeyData.fromObject({ keyData: bytes(5), timestamp: 1700000000 }) },
    'app-state-sync-version': { regular: { version: 3, hash: bytes(6), indexValueMap: { idx: { valueMac: bytes(7) } } } },
    'lid-mapping': { '12125551234': `${marker}@lid`, [`${marker}_reverse`]: '12125551234' },
    'device-list': { '12125551234': ['0', '1', marker] },
    tctoken: { '12125551234@s.whatsapp.net': { token: bytes(8), timestamp: '1700000000' } },
    'identity-key': { '12125551234.0': bytes(9) },
  };
}

for (const dialect of testDialects()) {
  describe(`auth-state store (${dialect})`, () => {
    let database: TestDatabase;
    let store: Store;
    let accountId: string;
    let other: string;

    beforeEach(async () => {
      database = await createTestDatabase(dialect);
      store = Store.open(database.url);
      await store.migrate();
      accountId = (await createAccount(store, { email: `a-${Math.random()}@example.com`, plan: 'trial', expiresAt: null }, Date.now())).id;
      other = (await createAccount(store, { email: `b-${Math.random()}@example.com`, plan: 'trial', expiresAt: null }, Date.now())).id;
    });

    afterEach(async () => {
      await store.close();
      await database.drop();
    });

    it('round-trips creds, including Buffers and the linked flag', async () => {
      const auth = new AuthStateStore(store, SECRET);
      expect(await auth.loadCreds(accountId)).toBeUndefined();
      const creds = initAuthCreds();
      await auth.saveCreds(accountId, creds);
      expect(await auth.linkedAccounts()).toEqual([]);
      creds.me = { id: '12125551234:7@s.whatsapp.net', lid: '99887766@lid' };
      creds.account = proto.ADVSignedDeviceIdentity.fromObject({ details: Buffer.from('details'), accountSignatureKey: Buffer.alloc(32, 1) });
      creds.registered = true;
      await auth.saveCreds(accountId, creds);
      const loaded = (await auth.loadCreds(accountId))!;
      expect(isLinked(loaded)).toBe(true);
      expect(loaded.me).toEqual(creds.me);
      expect(Buffer.from(loaded.noiseKey.private).equals(Buffer.from(creds.noiseKey.private))).toBe(true);
      expect(Buffer.isBuffer(loaded.signedIdentityKey.public)).toBe(true);
      expect(loaded.registrationId).toBe(creds.registrationId);
      expect(await auth.linkedAccounts()).toEqual([accountId]);
    });

    it('stores, reads and deletes every key type Baileys 7 uses, one transaction per set', async () => {
      const auth = new AuthStateStore(store, SECRET);
      const keys = auth.keys(accountId);
      const data = everyKeyType('plain-marker');
      expect(Object.keys(data).sort()).toEqual([...SIGNAL_KEY_TYPES].sort());
      await keys.set(data);
      for (const [type, values] of Object.entries(data)) {
        const ids = Object.keys(values!);
        const got = await keys.get(type as keyof typeof data & string as never, [...ids, 'missing']);
        expect(Object.keys(got).sort(), type).toEqual(ids.sort());
        for (const id of ids) {
          // Compare through BufferJSON so Buffers and Uint8Arrays compare by content.
          expect(JSON.parse(JSON.stringify((got as Record<string, unknown>)[id], BufferJSON.replacer)), `${type} ${id}`).toEqual(
            JSON.parse(JSON.stringify(values![id], BufferJSON.replacer)),
          );
        }
      }
      const appKey = (await keys.get('app-state-sync-key', ['AAAAAQ'])).AAAAAQ!;
      expect(appKey).toBeInstanceOf(proto.Message.AppStateSyncKeyData);

      // null deletes, in the same call that writes another value
      await keys.set({ 'lid-mapping': { '12125551234': null, '15550001111': '4242@lid' }, session: { '12125551234.0': null } });
      expect(await keys.get('lid-mapping', ['12125551234', '15550001111'])).toEqual({ '15550001111': '4242@lid' });
      expect(await keys.get('session', ['12125551234.0'])).toEqual({});

      // keys are per account
      expect(await auth.keys(other).get('device-list', ['12125551234'])).toEqual({});
    });

    it('keeps only ciphertext in the database', async () => {
      const auth = new AuthStateStore(store, SECRET);
      const creds = initAuthCreds();
      creds.me = { id: '19998887777:2@s.whatsapp.net' };
      await auth.saveCreds(accountId, creds);
      await auth.keys(accountId).set(everyKeyType('plain-marker'));
      const rows = [
        ...(await store.db.selectFrom('wa_auth_keys').select('data').execute()),
        ...(await store.db.selectFrom('wa_auth_creds').select('data').execute()),
      ];
      expect(rows.length).toBe(12); // 11 keys (lid-mapping has two) and the creds
      const privateKey = Buffer.from(creds.noiseKey.private);
      for (const { data } of rows) {
        expect(data).toMatch(/^v1\./);
        expect(data).not.toContain('plain-marker');
        expect(data).not.toContain(Buffer.from('plain-marker').toString('base64').slice(0, 12));
        expect(data).not.toContain('19998887777');
        expect(data).not.toContain(privateKey.toString('base64'));
      }
      // A fresh nonce per write: the same value sealed twice differs.
      await auth.keys(accountId).set({ 'device-list': { x: ['1'] } });
      const first = (await store.db.selectFrom('wa_auth_keys').select('data').where('key_id', '=', 'x').executeTakeFirstOrThrow()).data;
      await auth.keys(accountId).set({ 'device-list': { x: ['1'] } });
      const second = (await store.db.selectFrom('wa_auth_keys').select('data').where('key_id', '=', 'x').executeTakeFirstOrThrow()).data;
      expect(second).not.toBe(first);
    });

    it('survives closing and reopening the database', async () => {
      const creds = initAuthCreds();
      creds.me = { id: '12125551234:3@s.whatsapp.net' };
      await new AuthStateStore(store, SECRET).saveCreds(accountId, creds);
      await new AuthStateStore(store, SECRET).keys(accountId).set({ 'pre-key': { '5': { public: Buffer.from('pub'), private: Buffer.from('priv') } } });
      await store.close();
      store = Store.open(database.url);
      const auth = new AuthStateStore(store, SECRET);
      expect((await auth.loadCreds(accountId))?.me?.id).toBe('12125551234:3@s.whatsapp.net');
      const preKey = (await auth.keys(accountId).get('pre-key', ['5']))['5']!;
      expect(Buffer.from(preKey.private).toString()).toBe('priv');
    });

    it('fails loudly with a wrong secret, or with a row moved onto another key', async () => {
      await new AuthStateStore(store, SECRET).saveCreds(accountId, initAuthCreds());
      await new AuthStateStore(store, SECRET).keys(accountId).set({ session: { a: Buffer.from('one') } });
      const wrong = new AuthStateStore(store, 'another-secret-entirely-0123456789');
      await expect(wrong.loadCreds(accountId)).rejects.toThrow(/MESSAGEAPI_SECRET/);
      await expect(wrong.keys(accountId).get('session', ['a'])).rejects.toThrow(/MESSAGEAPI_SECRET/);

      await store.write((tx) => tx.updateTable('wa_auth_keys').set({ key_id: 'b' }).where('key_id', '=', 'a').execute());
      await expect(new AuthStateStore(store, SECRET).keys(accountId).get('session', ['b'])).rejects.toThrow(/does not belong/);
    });

    it('clear forgets creds and every key of that account only', async () => {
      const auth = new AuthStateStore(store, SECRET);
      await auth.saveCreds(accountId, initAuthCreds());
      await auth.keys(accountId).set(everyKeyType('m'));
      await auth.keys(other).set({ session: { s: Buffer.from('x') } });
      await auth.clear(accountId);
      expect(await auth.loadCreds(accountId)).toBeUndefined();
      expect(await store.db.selectFrom('wa_auth_keys').select('account_id').distinct().execute()).toEqual([{ account_id: other }]);
    });

    it('refuses an unknown key type instead of storing it silently', async () => {
      const keys = new AuthStateStore(store, SECRET).keys(accountId);
      await expect(keys.set({ 'not-a-type': { a: 'b' } } as unknown as SignalDataSet)).rejects.toThrow(/Unknown signal key type/);
    });
  });
}
