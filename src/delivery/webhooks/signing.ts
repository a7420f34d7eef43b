import { createHmac, randomBytes } from 'node:crypto';

const PREFIX = 'whsec_';

/** A new signing secret: `whsec_` + base64 of 32 random bytes, as Standard Webhooks libraries expect. */
export function newWebhookSecret(): string {
  return PREFIX + randomBytes(32).toString('base64');
}

/** What Settings may show of a secret: enough to tell two apart, too little to sign with. */
export function secretPrefix(secret: string): string {
  return secret.slice(0, PREFIX.length + 4);
}

/**
 * The Standard Webhooks headers for one attempt: the id stays the same across retries, the
 * timestamp is the attempt's own, and the signature covers `id.timestamp.body` over the exact
 * bytes that are sent.
 */
export function signatureHeaders(secret: string, id: string, timestampSeconds: number, body: Buffer): Record<string, string> {
  const key = Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, 'base64');
  const mac = createHmac('sha256', key).update(`${id}.${timestampSeconds}.`).update(body).digest('base64');
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': `v1,${mac}`,
  };
}
