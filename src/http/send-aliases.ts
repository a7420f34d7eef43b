import { AppError } from '../core/errors.js';

/**
 * The names other gateways and tools give /send.php's fields (CallMeBot, Green-API, hosted APIs),
 * each mapped to ours. The canonical name comes first; the order decides which name an error
 * mentions first.
 */
export const SEND_PHP_ALIASES = Object.freeze({
  recipient: ['recipient', 'phone', 'to', 'number', 'chatId'],
  text: ['text', 'body', 'message', 'caption'],
  apikey: ['apikey', 'token'],
  file: ['file', 'image'],
} as const);

export type AliasedField = keyof typeof SEND_PHP_ALIASES;

/**
 * The one value a request gives for a field under any of its names. The same value under two
 * names is fine (a tool may repeat it); two different values are a 400 that names both fields.
 */
export function aliasedValue(fields: Record<string, unknown>, field: AliasedField): string | undefined {
  let found: { name: string; value: string } | undefined;
  for (const name of SEND_PHP_ALIASES[field]) {
    const value = fields[name];
    if (typeof value !== 'string') continue;
    if (found === undefined) found = { name, value };
    else if (found.value !== value) {
      throw new AppError('invalid_parameter', `Invalid parameter: ${found.name} and ${name} give two different values for ${field}; send one of them.`);
    }
  }
  return found?.value;
}

/** All of /send.php's fields under our own names, after the conflict check. */
export function canonicalSendFields(fields: Record<string, unknown>): Record<AliasedField, string | undefined> {
  return {
    recipient: aliasedValue(fields, 'recipient'),
    text: aliasedValue(fields, 'text'),
    apikey: aliasedValue(fields, 'apikey'),
    file: aliasedValue(fields, 'file'),
  };
}
