import { createHash } from 'node:crypto';

/** Fields that change how a request is answered, not what it asks for. */
const NOT_PART_OF_THE_REQUEST = new Set(['apikey', 'token', 'wait']);

/** JSON with object keys in sorted order, so that key order never makes two requests differ. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * What an Idempotency-Key is bound to (as Stripe does): the method, the route and the request's
 * fields, canonical, hashed. The same key with another fingerprint is another request.
 */
export function requestFingerprint(method: string, route: string, fields: Record<string, unknown>): string {
  const asked = Object.fromEntries(Object.entries(fields).filter(([name]) => !NOT_PART_OF_THE_REQUEST.has(name)));
  return createHash('sha256').update(`${method} ${route}\n${canonicalJson(asked)}`).digest('hex');
}
