import { randomBytes, randomUUID } from 'node:crypto';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Uniformly random base62 (rejection sampling keeps every character equally likely). */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

export function newId(prefix: string): string {
  return `${prefix}_${randomBase62(22)}`;
}

export function newMessageId(): string {
  return randomUUID();
}

// Random bytes for ids on the send path, drawn 4 KB at a time rather than one system call per id.
let pool = Buffer.alloc(0);
let offset = 0;

function pooledRandomBytes(length: number): Buffer {
  if (offset + length > pool.length) {
    pool = randomBytes(4096);
    offset = 0;
  }
  offset += length;
  return pool.subarray(offset - length, offset);
}

/** WhatsApp-style message id (as Baileys makes them), fixed before the first send attempt. */
export function newWhatsAppMessageId(): string {
  return `3EB0${pooledRandomBytes(9).toString('hex').toUpperCase()}`;
}
