import { randomBytes, timingSafeEqual } from 'node:crypto';
import { AppError } from './errors.js';
import { passwordHashingPool, type HashingClaim } from './password-hashing-pool.js';

export type { HashingClaim } from './password-hashing-pool.js';

/** scrypt at N=2^15, r=8, p=1 (about 32 MB and ~80 ms here): slow for a guesser, fine for a sign-in. */
const PARAMS = { N: 32_768, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;
const MAX_MEMORY = 64 * 1024 * 1024;

export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 256;

/** Through the bounded pool (never libuv's thread pool, which the durability fsync needs): 503 when it is full. */
function derive(password: string, salt: Buffer, options: { N: number; r: number; p: number }, length: number, claim?: HashingClaim): Promise<Buffer> {
  const task = { password: password.normalize('NFKC'), salt, length, options: { ...options, maxmem: MAX_MEMORY } };
  return claim ? claim.scrypt(task) : passwordHashingPool.scrypt(task);
}

/**
 * Room for one password hash, claimed now: 503 at once when the server could not hash now. Claim
 * before work that only makes sense with a hash to follow, then pass the claim to verifyPassword
 * (or release it).
 */
export function claimHashing(): HashingClaim {
  return passwordHashingPool.claim();
}

export function checkPasswordPolicy(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new AppError('invalid_parameter', `Invalid parameter: password must be at least ${MIN_PASSWORD_LENGTH} characters long.`);
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw new AppError('invalid_parameter', `Invalid parameter: password must be at most ${MAX_PASSWORD_LENGTH} characters long.`);
  }
}

/** `scrypt$N$r$p$salt$hash` (base64url), so the cost can be raised later without breaking old hashes. */
export async function hashPassword(password: string): Promise<string> {
  checkPasswordPolicy(password);
  const salt = randomBytes(16);
  const key = await derive(password, salt, PARAMS, KEY_LENGTH);
  return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** `claim`: room claimed beforehand with claimHashing (used up, or released when no hash is needed). */
export async function verifyPassword(password: string, stored: string, claim?: HashingClaim): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) {
    claim?.release();
    return false;
  }
  const expected = Buffer.from(hash, 'base64url');
  const key = await derive(password, Buffer.from(salt, 'base64url'), { N: Number(n), r: Number(r), p: Number(p) }, expected.length, claim);
  return timingSafeEqual(key, expected);
}

/**
 * A stored hash to compare against when the account does not exist, so timing does not tell. A
 * constant (of a random password nobody kept) with today's parameters: computing one at run time
 * made the first flood of sign-ins for unknown e-mails all wait behind that one hash.
 */
const DECOY_HASH = 'scrypt$32768$8$1$wDqoZVNWtIscqF4CdL5GxA$9cKUx8eJiCdGhT9TwD_JuGVRGcqGg6bPgr0Lroc2-OY';
export function decoyHash(): string {
  return DECOY_HASH;
}
