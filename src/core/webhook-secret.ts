import { randomBytes } from 'node:crypto';

const PREFIX = 'whsec_';

/** A new signing secret: `whsec_` + base64 of 32 random bytes, as Standard Webhooks libraries expect. */
export function newWebhookSecret(): string {
  return PREFIX + randomBytes(32).toString('base64');
}

/** What Settings may show of a secret: enough to tell two apart, too little to sign with. */
export function secretPrefix(secret: string): string {
  return secret.slice(0, PREFIX.length + 4);
}
