import { randomBytes, randomUUID } from 'node:crypto';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Uniformly random base62 from fresh random bytes: for secrets (API keys, pairing codes). */
export function randomBase62(length: number): string {
  return base62(length, randomBytes);
}

/** Uniformly random base62 (rejection sampling keeps every character equally likely). */
function base62(length: number, draw: (bytes: number) => Buffer): string {
  let out = '';
  while (out.length < length) {
    for (const byte of draw(length * 2)) {
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

/** A public identifier (event, delivery, account…): unguessable, its bytes drawn from the pool below. */
export function newId(prefix: string): string {
  return `${prefix}_${base62(22, pooledRandomBytes)}`;
}

export function newMessageId(): string {
  return randomUUID();
}

// Random bytes for public ids on the send and delivery paths, drawn 4 KB at a time: a draw per id
// (randomFillSync) was 3 % of the dispatcher's CPU.
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
