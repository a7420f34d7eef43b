import { randomBytes } from 'node:crypto';
import {
  aesDecryptCTR,
  aesDecryptGCM,
  aesEncryptCTR,
  Curve,
  derivePairingCodeKey,
  hkdf,
  hmacSign,
  proto,
  WA_ADV_ACCOUNT_SIG_PREFIX,
  WA_ADV_DEVICE_SIG_PREFIX,
  type BinaryNode,
  type KeyPair,
} from 'baileys';

/**
 * The phone's side of linking a companion device, as WhatsApp's apps do it: reading the QR,
 * signing the companion's identity with the account key (ADV), and the pairing-code exchange.
 * Baileys' companion side verifies every signature and MAC here.
 */

export interface ScannedQr {
  ref: string;
  noiseKey: Buffer;
  identityKey: Buffer;
  advSecret: Buffer;
}

/** `https://wa.me/settings/linked_devices#ref,noise,identity,adv,platform` (or the bare list). */
export function parseQr(qr: string): ScannedQr {
  const parts = qr.slice(qr.indexOf('#') + 1).split(',');
  if (parts.length < 4) throw new Error('not a WhatsApp linking QR');
  const [ref, noise, identity, adv] = parts as [string, string, string, string];
  return { ref, noiseKey: Buffer.from(noise, 'base64'), identityKey: Buffer.from(identity, 'base64'), advSecret: Buffer.from(adv, 'base64') };
}

/**
 * The `device-identity` of a `pair-success`: the companion's identity signed by the account key,
 * wrapped in an HMAC under the companion's ADV secret.
 */
export function signedDeviceIdentity(options: { account: KeyPair; companionIdentity: Buffer; advSecret: Buffer; keyIndex: number }): Buffer {
  const details = proto.ADVDeviceIdentity.encode({ rawId: randomBytes(4).readUInt32BE(0), timestamp: Math.floor(Date.now() / 1000), keyIndex: options.keyIndex }).finish();
  const accountSignature = Curve.sign(options.account.private, Buffer.concat([WA_ADV_ACCOUNT_SIG_PREFIX, details, options.companionIdentity]));
  const signed = proto.ADVSignedDeviceIdentity.encode({ details, accountSignatureKey: options.account.public, accountSignature }).finish();
  return Buffer.from(proto.ADVSignedDeviceIdentityHMAC.encode({ details: signed, hmac: hmacSign(signed, options.advSecret) }).finish());
}

/** The companion's answer to `pair-success` carries its own signature over the same details. */
export function deviceSignatureValid(reply: BinaryNode, account: Buffer, companionIdentity: Buffer): boolean {
  const sign = childNode(reply, 'pair-device-sign');
  const identity = sign && childNode(sign, 'device-identity');
  if (!identity || !(identity.content instanceof Uint8Array)) return false;
  const signed = proto.ADVSignedDeviceIdentity.decode(identity.content);
  if (!signed.details || !signed.deviceSignature) return false;
  const message = Buffer.concat([WA_ADV_DEVICE_SIG_PREFIX, signed.details, companionIdentity, account]);
  return Curve.verify(companionIdentity, message, signed.deviceSignature);
}

/** salt(32) ‖ iv(16) ‖ AES-CTR(key from the code) of a 32-byte public key. */
export async function unwrapWithCode(wrapped: Buffer, code: string): Promise<Buffer> {
  const key = await derivePairingCodeKey(code, wrapped.subarray(0, 32));
  return aesDecryptCTR(wrapped.subarray(48, 80), key, wrapped.subarray(32, 48));
}

export async function wrapWithCode(publicKey: Buffer, code: string): Promise<Buffer> {
  const salt = randomBytes(32);
  const iv = randomBytes(16);
  const key = await derivePairingCodeKey(code, salt);
  return Buffer.concat([salt, iv, aesEncryptCTR(publicKey, key, iv)]);
}

/**
 * The companion's key bundle after the code exchange → the ADV secret both sides now share.
 * Throws when the bundle does not open: the code typed on the phone was not the companion's.
 */
export function advSecretFromKeyBundle(options: { wrappedBundle: Buffer; primaryEphemeral: KeyPair; companionEphemeral: Buffer; primaryIdentity: KeyPair; companionIdentity: Buffer }): Buffer {
  const shared = Curve.sharedKey(options.primaryEphemeral.private, options.companionEphemeral);
  const salt = options.wrappedBundle.subarray(0, 32);
  const iv = options.wrappedBundle.subarray(32, 44);
  const key = hkdf(shared, 32, { salt, info: 'link_code_pairing_key_bundle_encryption_key' });
  const bundle = aesDecryptGCM(options.wrappedBundle.subarray(44), key, iv, Buffer.alloc(0));
  const companionIdentity = bundle.subarray(0, 32);
  const primaryIdentity = bundle.subarray(32, 64);
  const random = bundle.subarray(64, 96);
  if (!companionIdentity.equals(options.companionIdentity) || !primaryIdentity.equals(options.primaryIdentity.public)) {
    throw new Error('the key bundle names other identities');
  }
  const identityShared = Curve.sharedKey(options.primaryIdentity.private, options.companionIdentity);
  return Buffer.from(hkdf(Buffer.concat([shared, identityShared, random]), 32, { info: 'adv_secret' }));
}

export function childNode(node: BinaryNode, tag: string): BinaryNode | undefined {
  return Array.isArray(node.content) ? node.content.find((c) => c.tag === tag) : undefined;
}

export function childBytes(node: BinaryNode, tag: string): Buffer | undefined {
  const child = childNode(node, tag);
  if (!child) return undefined;
  if (child.content instanceof Uint8Array) return Buffer.from(child.content);
  if (typeof child.content === 'string') return Buffer.from(child.content, 'utf8');
  return undefined;
}
