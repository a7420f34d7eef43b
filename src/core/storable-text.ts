/**
 * Text PostgreSQL can store: no NUL character (it refuses `\u0000` in text) and well-formed UTF-16
 * (an unpaired surrogate has no UTF-8 form). SQLite would take both; checking the same rule on
 * either database keeps their behaviour identical.
 */
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, 'g');

export function isStorableText(value: string): boolean {
  return !UNSTORABLE.test(value);
}

/**
 * Text from outside the gateway's control (a receiver's answer, a WhatsApp payload, an SMTP error)
 * made safe to write: NULs and unpaired surrogates dropped, cut to `maxLength` characters
 * without splitting a surrogate pair. The one helper every such write goes through.
 */
export function storableText(value: string, maxLength: number): string;
export function storableText(value: string | null, maxLength: number): string | null;
export function storableText(value: string | null | undefined, maxLength: number): string | null | undefined;
export function storableText(value: string | null | undefined, maxLength: number): string | null | undefined {
  if (value === null || value === undefined) return value;
  let text = UNSTORABLE.test(value) ? value.replace(UNSTORABLE_ALL, '') : value;
  if (text.length > maxLength) {
    text = text.slice(0, maxLength);
    // A pair cut in half leaves a lone high surrogate at the end.
    if (/[\ud800-\udbff]$/.test(text)) text = text.slice(0, -1);
  }
  return text;
}

/** Lengths kept for text from outside, by what it is. */
export const STORED_TEXT_LIMITS = Object.freeze({
  /** Error sentences (a receiver's, an SMTP server's, a WhatsApp driver's). */
  error: 1_000,
  /** The start of a webhook receiver's answer. */
  response: 500,
  /** Names: push names, group names. */
  name: 256,
  /** A message's text or caption received from WhatsApp. */
  text: 65_536,
});
