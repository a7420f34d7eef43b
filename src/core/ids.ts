import { randomBytes } from 'node:crypto';

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

/**
 * A public identifier (event, delivery, account…): 7 base62 characters of the time in
 * milliseconds, then 15 random ones (89 bits, unguessable), their bytes drawn from the pool below.
 * Later ids sort later (base62's characters are in ASCII order), so the indexes keyed by them grow
 * at their end instead of taking a write on a random page for every row.
 */
export function newId(prefix: string, now = Date.now()): string {
  return `${prefix}_${timeBase62(now)}${base62(15, pooledRandomBytes)}`;
}

/** Milliseconds since 1970 as 7 base62 digits, most significant first (enough until 2081). */
function timeBase62(ms: number): string {
  let out = '';
  let rest = Math.floor(ms);
  for (let i = 0; i < 7; i++) {
    out = BASE62[rest % 62]! + out;
    rest = Math.floor(rest / 62);
  }
  return out;
}

/**
 * A message id: a UUID version 7 (RFC 9562), its first 48 bits the time in milliseconds, the other
 * 74 random. Ids made one after another sort one after another, so the indexes keyed by them
 * (the messages table's own, the outbox's ref) grow at their end: a commit of a batch of sends
 * writes a few index pages, not one per message (a random UUID's commit wrote twice the pages).
 */
export function newMessageId(now = Date.now()): string {
  const bytes = Buffer.alloc(16);
  bytes.writeUIntBE(now, 0, 6);
  pooledRandomBytes(10).copy(bytes, 6);
  bytes[6] = 0x70 | (bytes[6]! & 0x0f);
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
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
