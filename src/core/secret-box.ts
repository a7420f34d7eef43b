import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const VERSION = 'v1';

/**
 * Encrypts secrets at rest (WhatsApp credentials, webhook signing secrets) with AES-256-GCM under a
 * key derived from MESSAGEAPI_SECRET; a fresh 12-byte nonce for every write. A wrong secret or a
 * tampered value fails loudly instead of returning garbage.
 */
export class SecretBox {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = createHash('sha256').update(`messageapi:secret-box:${secret}`).digest();
  }

  encrypt(plaintext: string | Buffer): string {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return [VERSION, nonce.toString('base64'), body.toString('base64'), cipher.getAuthTag().toString('base64')].join('.');
  }

  decryptToBuffer(sealed: string): Buffer {
    const [version, nonce, body, tag] = sealed.split('.');
    if (version !== VERSION || !nonce || body === undefined || !tag) throw new Error('Encrypted value has an unknown format.');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(nonce, 'base64'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    try {
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]);
    } catch {
      throw new Error('Could not decrypt a stored secret: MESSAGEAPI_SECRET is not the one it was encrypted with, or the value was changed.');
    }
  }

  decrypt(sealed: string): string {
    return this.decryptToBuffer(sealed).toString('utf8');
  }
}
