import { createHmac } from 'node:crypto';

const PREFIX = 'whsec_';

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
