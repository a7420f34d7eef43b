import { AppError } from '../core/errors.js';

export interface AliasedValue {
  value: string | undefined;
  /** The field the value came from, as the user spelt it: named in any error about it. */
  field: string;
}

/**
 * One value given under a field or its alias (`recipient`/`to`, `text`/`caption`, `file`/`image`).
 * Both with the same value is fine; both with different values is a 400 rather than a silent choice.
 */
export function aliased(fields: Record<string, unknown>, name: string, alias: string): AliasedValue {
  const main = fields[name] as string | undefined;
  const other = fields[alias] as string | undefined;
  if (main !== undefined && other !== undefined && main !== other) {
    throw new AppError('invalid_parameter', `Invalid parameter: ${name} and ${alias} are the same field and were given different values; send only one of them.`);
  }
  return main !== undefined ? { value: main, field: name } : { value: other, field: other !== undefined ? alias : name };
}
