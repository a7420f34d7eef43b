import {
  Curve,
  DEFAULT_CONNECTION_CONFIG,
  encodeBigEndian,
  encodeWAMessage,
  generateSignalPubKey,
  initAuthCreds,
  KEY_BUNDLE_TYPE,
  proto,
  unpadRandomMax16,
  xmppPreKey,
  xmppSignedPreKey,
  type AuthenticationCreds,
  type BinaryNode,
  type KeyPair,
  type SignalDataSet,
  type SignalDataTypeMap,
  type SignalKeyStoreWithTransaction,
} from 'baileys';
import pino from 'pino';

/** The simplest key store Baileys' Signal repository accepts: a map in memory. */
function memoryKeyStore(): SignalKeyStoreWithTransaction {
  const data = new Map<string, unknown>();
  return {
    async get<T extends keyof SignalDataTypeMap>(type: T, ids: string[]) {
      const out: { [id: string]: SignalDataTypeMap[T] } = {};
      for (const id of ids) {
        const value = data.get(`${type}:${id}`);
        if (value !== undefined) out[id] = value as SignalDataTypeMap[T];
      }
      return out;
    },
    async set(set: SignalDataSet) {
      for (const [type, values] of Object.entries(set)) {
        for (const [id, value] of Object.entries(values ?? {})) {
          if (value === null || value === undefined) data.delete(`${type}:${id}`);
          else data.set(`${type}:${id}`, value);
        }
      }
    },
    isInTransaction: () => false,
    transaction: (work) => work(),
  };
}

const quiet = pino({ level: 'silent' });

/** The keys a companion device uploads (`encrypt` set): what another device needs to message it. */
export interface UploadedBundle {
  registrationId: number;
  identity: Buffer;
  signedPreKey: { keyId: number; publicKey: Buffer; signature: Buffer };
  preKeys: Array<{ keyId: number; publicKey: Buffer }>;
}


/**
 * One WhatsApp device other than the gateway's: a contact's phone, or the primary phone of the
 * gateway's own number. It has a real Signal identity, hands out pre-key bundles when the
 * gateway asks for them, and decrypts what the gateway encrypts to it, with Baileys' own Signal
 * repository (libsignal) on this side too.
 */
export class SignalDevice {
  readonly creds: AuthenticationCreds = initAuthCreds();
  private readonly keys = memoryKeyStore();
  private readonly repository = DEFAULT_CONNECTION_CONFIG.makeSignalRepository({ creds: this.creds, keys: this.keys }, quiet, async () => []);
  private nextPreKeyId = 1;

  constructor(readonly jid: string) {}

  get identity(): KeyPair {
    return this.creds.signedIdentityKey;
  }

  /** The `<user>` node of an `encrypt`/`key` answer: a fresh one-time pre-key each time. */
  async bundleNode(): Promise<BinaryNode> {
    const id = this.nextPreKeyId++;
    const preKey = Curve.generateKeyPair();
    await this.keys.set({ 'pre-key': { [String(id)]: preKey } });
    return {
      tag: 'user',
      attrs: { jid: this.jid },
      content: [
        { tag: 'registration', attrs: {}, content: encodeBigEndian(this.creds.registrationId) },
        { tag: 'type', attrs: {}, content: KEY_BUNDLE_TYPE },
        { tag: 'identity', attrs: {}, content: this.identity.public },
        xmppSignedPreKey(this.creds.signedPreKey),
        xmppPreKey(preKey, id),
      ],
    };
  }

  /** An `<enc>` addressed to this device, from the gateway device `senderJid` → the message in it. */
  async decrypt(senderJid: string, type: 'pkmsg' | 'msg', ciphertext: Uint8Array): Promise<proto.IMessage> {
    const plaintext = await this.repository.decryptMessage({ jid: senderJid, type, ciphertext });
    // A session the sender started: replies go out on it (`msg`), not on a new one from its bundle.
    this.sessions.add(senderJid);
    return proto.Message.decode(unpadRandomMax16(plaintext));
  }

  /** A group's sender key from `authorJid`, handed over inside a 1:1 message; later group messages open with it. */
  async acceptSenderKey(authorJid: string, item: proto.Message.ISenderKeyDistributionMessage): Promise<void> {
    await this.repository.processSenderKeyDistributionMessage({ authorJid, item });
    this.senderKeys.add(`${item.groupId}|${authorJid}`);
  }

  hasSenderKey(group: string, authorJid: string): boolean {
    return this.senderKeys.has(`${group}|${authorJid}`);
  }

  /** A group message (`skmsg`) from `authorJid` → the message in it. */
  async decryptGroup(group: string, authorJid: string, ciphertext: Uint8Array): Promise<proto.IMessage> {
    const plaintext = await this.repository.decryptGroupMessage({ group, authorJid, msg: ciphertext });
    return proto.Message.decode(unpadRandomMax16(plaintext));
  }

  private readonly senderKeys = new Set<string>();

  /** `message` end-to-end encrypted to `recipientJid`, starting a session from its uploaded bundle if needed. */
  async encryptFor(recipientJid: string, bundle: UploadedBundle, message: proto.IMessage): Promise<{ type: 'pkmsg' | 'msg'; ciphertext: Uint8Array }> {
    if (!this.sessions.has(recipientJid)) {
      const preKey = bundle.preKeys.shift();
      await this.repository.injectE2ESession({
        jid: recipientJid,
        session: {
          registrationId: bundle.registrationId,
          identityKey: generateSignalPubKey(bundle.identity),
          signedPreKey: { ...bundle.signedPreKey, publicKey: generateSignalPubKey(bundle.signedPreKey.publicKey) },
          ...(preKey ? { preKey: { keyId: preKey.keyId, publicKey: generateSignalPubKey(preKey.publicKey) } } : {}),
        },
      });
      this.sessions.add(recipientJid);
    }
    return this.repository.encryptMessage({ jid: recipientJid, data: encodeWAMessage(message) });
  }

  /**
   * A group message from this device to `recipientJid`: the sender key handed over in a 1:1 copy,
   * then the message under the group's sender key.
   */
  async encryptGroupFor(recipientJid: string, bundle: UploadedBundle, group: string, message: proto.IMessage): Promise<Array<{ type: 'pkmsg' | 'msg' | 'skmsg'; ciphertext: Uint8Array }>> {
    const { senderKeyDistributionMessage, ciphertext } = await this.repository.encryptGroupMessage({ group, meId: this.jid, data: encodeWAMessage(message) });
    const handed = await this.encryptFor(recipientJid, bundle, { senderKeyDistributionMessage: { groupId: group, axolotlSenderKeyDistributionMessage: senderKeyDistributionMessage } });
    return [handed, { type: 'skmsg', ciphertext }];
  }

  private readonly sessions = new Set<string>();
}
