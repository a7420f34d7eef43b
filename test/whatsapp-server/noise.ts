import { aesDecryptGCM, aesEncryptGCM, Curve, hkdf, NOISE_MODE, NOISE_WA_HEADER, proto, sha256, type KeyPair } from 'baileys';
import { NOISE_CERT_CHAIN } from './noise-cert-chain.js';

/**
 * The server half of WhatsApp Web's Noise_XX_25519_AESGCM_SHA256 handshake and the framed,
 * encrypted transport that follows it. The client half is Baileys' `makeNoiseHandler`; each step
 * here mirrors one there (same hash, same key mixing, same counters), so the unmodified library
 * completes its handshake against us.
 */

const EMPTY = Buffer.alloc(0);

function iv(counter: number): Buffer {
  const out = Buffer.alloc(12);
  out.writeUInt32BE(counter, 8);
  return out;
}

/** The symmetric state of the handshake: the running hash, the chaining key and one cipher key. */
class HandshakeState {
  private hash: Uint8Array;
  private salt: Uint8Array;
  private key: Uint8Array;
  private counter = 0;

  constructor() {
    const mode = Buffer.from(NOISE_MODE);
    this.hash = mode.length === 32 ? mode : sha256(mode);
    this.salt = this.hash;
    this.key = this.hash;
  }

  authenticate(data: Uint8Array): void {
    this.hash = sha256(Buffer.concat([this.hash, data]));
  }

  mixIntoKey(data: Uint8Array): void {
    const out = hkdf(Buffer.from(data), 64, { salt: this.salt, info: '' });
    this.salt = out.subarray(0, 32);
    this.key = out.subarray(32);
    this.counter = 0;
  }

  encrypt(plaintext: Uint8Array): Buffer {
    const out = aesEncryptGCM(plaintext, this.key, iv(this.counter++), this.hash);
    this.authenticate(out);
    return out;
  }

  decrypt(ciphertext: Uint8Array): Buffer {
    const out = aesDecryptGCM(ciphertext, this.key, iv(this.counter++), this.hash);
    this.authenticate(ciphertext);
    return out;
  }

  /** The transport keys: the client writes with the first and reads with the second. */
  split(): { clientToServer: Uint8Array; serverToClient: Uint8Array } {
    const out = hkdf(EMPTY, 64, { salt: this.salt, info: '' });
    return { clientToServer: out.subarray(0, 32), serverToClient: out.subarray(32) };
  }
}

/** One direction of the transport: AES-GCM with a counter nonce. */
class TransportCipher {
  private counter = 0;
  constructor(private readonly key: Uint8Array) {}
  encrypt(plaintext: Uint8Array): Buffer {
    return aesEncryptGCM(plaintext, this.key, iv(this.counter++), EMPTY);
  }
  decrypt(ciphertext: Uint8Array): Buffer {
    return aesDecryptGCM(ciphertext, this.key, iv(this.counter++), EMPTY);
  }
}

export interface ClientHandshakeResult {
  /** The client's static Noise key (its `creds.noiseKey.public`). */
  clientStatic: Buffer;
  payload: proto.ClientPayload;
}

/**
 * A connection's Noise session, fed the raw WebSocket bytes. `onHandshakeFrame` and
 * `onTransportFrame` receive whole frames; the first client frame carries the `WA` intro header.
 */
export class NoiseServerSession {
  private readonly state = new HandshakeState();
  private readonly ephemeral: KeyPair = Curve.generateKeyPair();
  private inbound: Buffer = EMPTY;
  private sawIntro = false;
  private clientEphemeral: Buffer | undefined;
  private reader: TransportCipher | undefined;
  private writer: TransportCipher | undefined;

  constructor(private readonly serverStatic: KeyPair) {
    this.state.authenticate(NOISE_WA_HEADER);
  }

  get established(): boolean {
    return this.writer !== undefined;
  }

  /** Splits raw bytes into frames (the intro header, once, is checked and dropped). */
  takeFrames(data: Buffer): Buffer[] {
    this.inbound = this.inbound.length ? Buffer.concat([this.inbound, data]) : data;
    if (!this.sawIntro) {
      if (this.inbound.length < NOISE_WA_HEADER.length) return [];
      const header = this.inbound.subarray(0, NOISE_WA_HEADER.length);
      if (!header.equals(NOISE_WA_HEADER)) throw new Error(`unexpected intro header ${header.toString('hex')}`);
      this.inbound = this.inbound.subarray(NOISE_WA_HEADER.length);
      this.sawIntro = true;
    }
    const frames: Buffer[] = [];
    while (this.inbound.length >= 3) {
      const size = (this.inbound[0]! << 16) | (this.inbound[1]! << 8) | this.inbound[2]!;
      if (this.inbound.length < size + 3) break;
      frames.push(this.inbound.subarray(3, size + 3));
      this.inbound = this.inbound.subarray(size + 3);
    }
    return frames;
  }

  /** The client's hello → the server's hello (ephemeral, encrypted static key, certificate chain). */
  answerClientHello(frame: Buffer): Buffer {
    const hello = proto.HandshakeMessage.decode(frame).clientHello;
    if (!hello?.ephemeral?.length) throw new Error('expected a ClientHello with an ephemeral key');
    this.clientEphemeral = Buffer.from(hello.ephemeral);
    this.state.authenticate(this.clientEphemeral);
    this.state.authenticate(this.ephemeral.public);
    this.state.mixIntoKey(Curve.sharedKey(this.ephemeral.private, this.clientEphemeral));
    const encryptedStatic = this.state.encrypt(this.serverStatic.public);
    this.state.mixIntoKey(Curve.sharedKey(this.serverStatic.private, this.clientEphemeral));
    const encryptedCertificate = this.state.encrypt(NOISE_CERT_CHAIN);
    const serverHello = proto.HandshakeMessage.encode({
      serverHello: { ephemeral: this.ephemeral.public, static: encryptedStatic, payload: encryptedCertificate },
    }).finish();
    return frameOf(Buffer.from(serverHello));
  }

  /** The client's finish (its static key and login or registration payload) → transport keys. */
  acceptClientFinish(frame: Buffer): ClientHandshakeResult {
    const finish = proto.HandshakeMessage.decode(frame).clientFinish;
    if (!finish?.static?.length || !finish.payload?.length) throw new Error('expected a ClientFinish');
    const clientStatic = this.state.decrypt(finish.static);
    this.state.mixIntoKey(Curve.sharedKey(this.ephemeral.private, clientStatic));
    const payload = proto.ClientPayload.decode(this.state.decrypt(finish.payload));
    const keys = this.state.split();
    this.reader = new TransportCipher(keys.clientToServer);
    this.writer = new TransportCipher(keys.serverToClient);
    return { clientStatic, payload };
  }

  decrypt(frame: Buffer): Buffer {
    if (!this.reader) throw new Error('transport not established');
    return this.reader.decrypt(frame);
  }

  /** An encoded binary node → one encrypted, length-prefixed frame. */
  encryptFrame(plaintext: Buffer): Buffer {
    if (!this.writer) throw new Error('transport not established');
    return frameOf(this.writer.encrypt(plaintext));
  }
}

function frameOf(data: Buffer): Buffer {
  const out = Buffer.alloc(3 + data.length);
  out[0] = (data.length >>> 16) & 0xff;
  out[1] = (data.length >>> 8) & 0xff;
  out[2] = data.length & 0xff;
  data.copy(out, 3);
  return out;
}
