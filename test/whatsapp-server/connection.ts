import { randomBytes } from 'node:crypto';
import { Curve, decodeBinaryNode, encodeBinaryNode, jidDecode, proto, type BinaryNode, type KeyPair } from 'baileys';
import type { WebSocket } from 'ws';
import { companionSignal, privacySettingsNode } from './companion-signals.js';
import { advSecretFromKeyBundle, childBytes, childNode, deviceSignatureValid, signedDeviceIdentity, unwrapWithCode, wrapWithCode } from './linking.js';
import { NoiseServerSession } from './noise.js';
import type { UploadedBundle } from './signal-device.js';
import type { WhatsAppTestServer } from './server.js';

const SERVER = 's.whatsapp.net';
const now = () => String(Math.floor(Date.now() / 1000));

/** A companion waiting for its phone: the QR refs it was given, or its pairing-code hello. */
interface Registration {
  noiseKey: Buffer;
  identityKey: Buffer;
  refs: string[];
  codeHello?: { phone: string; wrappedEphemeral: Buffer; ref: string };
}

/**
 * One client connection: the Noise handshake, then login (a linked device) or registration (a new
 * one, linked by QR or pairing code), then the stanzas a companion device exchanges with WhatsApp.
 */
export class Connection {
  private readonly noise: NoiseServerSession;
  private stage: 'hello' | 'finish' | 'transport' = 'hello';
  private processing: Promise<void> = Promise.resolve();
  private readonly pendingIq = new Map<string, (node: BinaryNode) => void>();
  private iqCounter = 0;
  /** Resolves the phone's wait for the companion's `companion_finish` in a pairing-code link. */
  private codeFinish: ((node: BinaryNode) => void) | undefined;
  /** Set once logged in: the companion device's jid, e.g. `15550000001:12@s.whatsapp.net`. */
  deviceJid: string | undefined;
  registration: Registration | undefined;
  closed = false;

  constructor(
    private readonly server: WhatsAppTestServer,
    private readonly ws: WebSocket,
    serverStatic: KeyPair,
  ) {
    this.noise = new NoiseServerSession(serverStatic);
    ws.on('message', (data: Buffer) => {
      this.processing = this.processing.then(() => this.receive(data)).catch((error) => this.fail(error));
    });
    ws.on('close', () => {
      this.closed = true;
      server.forget(this);
    });
  }

  get phone(): string | undefined {
    return this.deviceJid ? jidDecode(this.deviceJid)?.user : undefined;
  }

  async send(node: BinaryNode): Promise<void> {
    if (this.closed) return;
    this.ws.send(this.noise.encryptFrame(Buffer.from(encodeBinaryNode(node))));
  }

  /** Sends an iq `set` and resolves with the client's answer. */
  query(node: BinaryNode): Promise<BinaryNode> {
    const id = `srv-${++this.iqCounter}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pendingIq.delete(id);
        reject(new Error(`no answer to ${node.tag} ${id}`));
      }, 10_000);
      this.pendingIq.set(id, (answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
      void this.send({ ...node, attrs: { ...node.attrs, id } });
    });
  }

  /** A `stream:error`, then the socket closes: what WhatsApp does on conflict, logout or restart. */
  async streamError(node: BinaryNode): Promise<void> {
    await this.send(node);
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.ws.close();
    this.server.forget(this);
  }

  private fail(error: unknown): void {
    this.server.log(`connection failed: ${error instanceof Error ? error.stack : String(error)}`);
    this.ws.terminate();
  }

  private async receive(data: Buffer): Promise<void> {
    for (const frame of this.noise.takeFrames(data)) {
      if (this.stage === 'hello') {
        this.ws.send(this.noise.answerClientHello(frame));
        this.stage = 'finish';
      } else if (this.stage === 'finish') {
        const { clientStatic, payload } = this.noise.acceptClientFinish(frame);
        this.stage = 'transport';
        await this.start(clientStatic, payload);
      } else {
        const node = await decodeBinaryNode(this.noise.decrypt(frame));
        await this.handle(node);
      }
    }
  }

  private async start(clientStatic: Buffer, payload: proto.ClientPayload): Promise<void> {
    if (payload.devicePairingData) {
      const refs = Array.from({ length: 6 }, () => randomBytes(12).toString('base64url'));
      this.registration = { noiseKey: clientStatic, identityKey: Buffer.from(payload.devicePairingData.eIdent ?? []), refs };
      await this.send({
        tag: 'iq',
        attrs: { from: SERVER, type: 'set', id: `pair-${randomBytes(4).toString('hex')}`, xmlns: 'md' },
        content: [{ tag: 'pair-device', attrs: {}, content: refs.map((ref) => ({ tag: 'ref', attrs: {}, content: Buffer.from(ref) })) }],
      });
      return;
    }
    const user = String(payload.username ?? '');
    const device = payload.device ?? 0;
    const jid = device ? `${user}:${device}@${SERVER}` : `${user}@${SERVER}`;
    const refusal = this.server.loginRefusal(jid, clientStatic);
    if (refusal) {
      this.server.log(`login of ${jid} refused (401): ${refusal}`);
      await this.send({ tag: 'failure', attrs: { reason: '401', location: 'test' } });
      this.close();
      return;
    }
    this.deviceJid = jid;
    await this.send({ tag: 'success', attrs: { t: now(), props: '1', abprops: '1', location: 'test', lid: `${this.server.lidOf(user)}:${device}@lid`, creation: now() } });
    await this.send({ tag: 'ib', attrs: { from: SERVER }, content: [{ tag: 'offline', attrs: { count: '0' } }] });
  }

  private async handle(node: BinaryNode): Promise<void> {
    const signal = this.deviceJid ? companionSignal(node, this.deviceJid) : undefined;
    if (signal) this.server.signals.push(signal);
    switch (node.tag) {
      case 'iq':
        return this.handleIq(node);
      case 'message':
        return this.server.messageFrom(this, node);
      case 'receipt':
        if (node.attrs.type === 'server-error') return this.server.contacts.answerMediaRetry(this, node);
        return this.send({ tag: 'ack', attrs: { class: 'receipt', id: node.attrs.id!, from: node.attrs.to ?? SERVER } });
      default:
        // presence, ack, ib (unified_session) and the like need no answer
        return;
    }
  }

  private async handleIq(node: BinaryNode): Promise<void> {
    const id = node.attrs.id ?? '';
    if (node.attrs.type === 'result' || node.attrs.type === 'error') {
      const waiter = this.pendingIq.get(id);
      this.pendingIq.delete(id);
      waiter?.(node);
      return;
    }
    const child = Array.isArray(node.content) ? node.content[0] : undefined;
    const result = (content?: BinaryNode[]): Promise<void> => this.send({ tag: 'iq', attrs: { id, type: 'result', from: SERVER }, ...(content ? { content } : {}) });
    const xmlns = node.attrs.xmlns;
    if (xmlns === 'encrypt' && child?.tag === 'count') return result([{ tag: 'count', attrs: { value: String(this.server.preKeysLeft(this.deviceJid)) } }]);
    if (xmlns === 'encrypt' && node.attrs.type === 'set' && childNode(node, 'list')) {
      const bundle = uploadedBundle(node);
      if (this.deviceJid && !this.server.identityMatches(this.deviceJid, bundle.identity)) {
        // Keys under another identity than the one the phone signed at linking: WhatsApp logs the device out.
        this.server.log(`${this.deviceJid} uploaded keys under another identity than it registered with: 401`);
        return this.streamError({ tag: 'stream:error', attrs: { code: '401' }, content: [{ tag: 'conflict', attrs: { type: 'device_removed' } }] });
      }
      await result();
      if (this.deviceJid) await this.server.preKeysUploaded(this.deviceJid, bundle);
      return;
    }
    if (xmlns === 'encrypt' && child?.tag === 'digest') return result([{ tag: 'digest', attrs: {} }]);
    if (xmlns === 'encrypt' && child?.tag === 'key') return result([{ tag: 'list', attrs: {}, content: await this.server.bundlesFor(child) }]);
    if (xmlns === 'usync') return result([this.server.usyncAnswer(node)]);
    if (xmlns === 'w:mex') return result(this.server.limits.mexAnswer(node, this.phone));
    if (xmlns === 'privacy' && child?.tag === 'privacy' && node.attrs.type === 'get') return result([privacySettingsNode()]);
    if (xmlns === 'w:m' && child?.tag === 'media_conn') {
      return result([{ tag: 'media_conn', attrs: { auth: randomBytes(16).toString('base64'), ttl: '3600' }, content: [{ tag: 'host', attrs: { hostname: this.server.media.hostname, maxContentLengthBytes: '104857600' } }] }]);
    }
    if (xmlns === 'w:g2' && child?.tag === 'participating') {
      const groups = this.phone ? this.server.groupsOf(this.phone).map((id) => this.server.groupNode(id)!) : [];
      return result([{ tag: 'groups', attrs: {}, content: groups }]);
    }
    if (xmlns === 'w:g2' && child?.tag === 'query') {
      const group = this.server.groupNode(node.attrs.to ?? '');
      if (group) return result([group]);
      return this.send({ tag: 'iq', attrs: { id, type: 'error', from: node.attrs.to ?? SERVER }, content: [{ tag: 'error', attrs: { code: '404', text: 'item-not-found' } }] });
    }
    if (xmlns === 'w:sync:app:state') {
      // No app-state patches: every collection asked for is answered as up to date.
      const sync = childNode(node, 'sync');
      const collections = sync && Array.isArray(sync.content) ? sync.content : [];
      return result([{ tag: 'sync', attrs: {}, content: collections.map((c) => ({ tag: 'collection', attrs: { name: c.attrs.name!, version: c.attrs.version ?? '0' } })) }]);
    }
    if (xmlns === 'md' && child?.tag === 'remove-companion-device') {
      if (this.deviceJid) this.server.removeDevice(this.deviceJid);
      await result();
      this.close();
      return;
    }
    if (xmlns === 'md' && child?.tag === 'link_code_companion_reg') return this.linkCodeStage(id, child);
    // props, blocklist, privacy, passive, ping, presence subscriptions…: an empty success
    return result();
  }

  private async linkCodeStage(id: string, reg: BinaryNode): Promise<void> {
    if (!this.registration) throw new Error('a pairing-code stage from a device that is not registering');
    if (reg.attrs.stage === 'companion_hello') {
      const ref = randomBytes(12).toString('base64url');
      this.registration.codeHello = { phone: jidDecode(reg.attrs.jid)?.user ?? '', wrappedEphemeral: childBytes(reg, 'link_code_pairing_wrapped_companion_ephemeral_pub')!, ref };
      await this.send({ tag: 'iq', attrs: { id, type: 'result', from: SERVER }, content: [{ tag: 'link_code_companion_reg', attrs: {}, content: [{ tag: 'link_code_pairing_ref', attrs: {}, content: Buffer.from(ref) }] }] });
      return;
    }
    await this.send({ tag: 'iq', attrs: { id, type: 'result', from: SERVER } });
    this.codeFinish?.(reg);
  }

  /** The phone typed `code`: the code exchange, then `pair-success`. Resolves with the new device's jid. */
  async linkWithCode(code: string, account: KeyPair): Promise<string> {
    const hello = this.registration?.codeHello;
    if (!this.registration || !hello) throw new Error('this connection has not asked for a pairing code');
    const companionEphemeral = await unwrapWithCode(hello.wrappedEphemeral, code);
    const primaryEphemeral = Curve.generateKeyPair();
    const finished = new Promise<BinaryNode>((resolve) => (this.codeFinish = resolve));
    await this.send({
      tag: 'notification',
      attrs: { from: SERVER, type: 'link_code_companion_reg', id: `lc-${randomBytes(4).toString('hex')}`, t: now() },
      content: [
        {
          tag: 'link_code_companion_reg',
          attrs: { stage: 'primary_hello' },
          content: [
            { tag: 'link_code_pairing_wrapped_primary_ephemeral_pub', attrs: {}, content: await wrapWithCode(Buffer.from(primaryEphemeral.public), code) },
            { tag: 'primary_identity_pub', attrs: {}, content: account.public },
            { tag: 'link_code_pairing_ref', attrs: {}, content: Buffer.from(hello.ref) },
          ],
        },
      ],
    });
    const finish = await withTimeout(finished, 10_000, 'companion_finish');
    const advSecret = advSecretFromKeyBundle({
      wrappedBundle: childBytes(finish, 'link_code_pairing_wrapped_key_bundle')!,
      primaryEphemeral,
      companionEphemeral,
      primaryIdentity: account,
      companionIdentity: this.registration.identityKey,
    });
    return this.pairSuccess(hello.phone, account, advSecret);
  }

  /** The phone approved this companion: `pair-success`, the companion's signature checked, then 515. */
  async pairSuccess(phone: string, account: KeyPair, advSecret: Buffer): Promise<string> {
    const registration = this.registration;
    if (!registration) throw new Error('this connection is not registering');
    const device = this.server.nextDeviceId();
    const jid = `${phone}:${device}@${SERVER}`;
    const answer = await this.query({
      tag: 'iq',
      attrs: { from: SERVER, type: 'set', xmlns: 'md', t: now() },
      content: [
        {
          tag: 'pair-success',
          attrs: {},
          content: [
            { tag: 'device-identity', attrs: {}, content: signedDeviceIdentity({ account, companionIdentity: registration.identityKey, advSecret, keyIndex: 1 }) },
            { tag: 'platform', attrs: { name: 'android' } },
            { tag: 'device', attrs: { jid, lid: `${this.server.lidOf(phone)}:${device}@lid` } },
          ],
        },
      ],
    });
    if (!deviceSignatureValid(answer, Buffer.from(account.public), registration.identityKey)) throw new Error('the companion did not sign its device identity');
    this.server.linked(jid, { noiseKey: registration.noiseKey, identityKey: registration.identityKey });
    await this.streamError({ tag: 'stream:error', attrs: { code: '515' } });
    return jid;
  }
}

/** registration, identity, the signed pre-key and a list of one-time pre-keys, as Baileys uploads them. */
function uploadedBundle(node: BinaryNode): UploadedBundle {
  const id = (key: BinaryNode) => childBytes(key, 'id')!.readUIntBE(0, 3);
  const skey = childNode(node, 'skey')!;
  const list = childNode(node, 'list');
  return {
    registrationId: childBytes(node, 'registration')!.readUInt32BE(0),
    identity: childBytes(node, 'identity')!,
    signedPreKey: { keyId: id(skey), publicKey: childBytes(skey, 'value')!, signature: childBytes(skey, 'signature')! },
    preKeys: (list && Array.isArray(list.content) ? list.content : []).map((key) => ({ keyId: id(key), publicKey: childBytes(key, 'value')! })),
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms)))]).finally(() => clearTimeout(timer));
}
