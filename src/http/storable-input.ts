import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../core/errors.js';
import { isStorableText } from '../core/storable-text.js';

/** Headers whose value is kept as data (the rest are only compared or hashed). */
const DATA_HEADERS = ['idempotency-key'] as const;
const MAX_DEPTH = 32;

interface Unstorable {
  /** The top-level field name. */
  field: string;
  what: 'text' | 'number';
}

/** The first field holding a value no database can store, or undefined. */
function unstorableField(value: unknown, name: string | undefined, depth = 0): Unstorable | undefined {
  if (typeof value === 'string') return isStorableText(value) ? undefined : { field: name ?? 'request', what: 'text' };
  // JSON's 1e309 and a query's "Infinity" (coerced to a number) pass an integer schema's maximum.
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : { field: name ?? 'request', what: 'number' };
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return undefined;
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = unstorableField(item, name, depth + 1);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const [key, item] of Object.entries(value)) {
    const field = name ?? key;
    if (!isStorableText(key)) return { field, what: 'text' };
    const found = unstorableField(item, field, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

function unstorableInput(request: FastifyRequest): Unstorable | undefined {
  for (const part of [request.params, request.query, request.body]) {
    const found = unstorableField(part, undefined);
    if (found !== undefined) return found;
  }
  for (const header of DATA_HEADERS) {
    const value = request.headers[header];
    if (typeof value === 'string' && !isStorableText(value)) return { field: header, what: 'text' };
  }
  return undefined;
}

function refuse({ field, what }: Unstorable): AppError {
  // The name itself may be the bad part: show it escaped.
  const shown = isStorableText(field) ? field : JSON.stringify(field).slice(1, -1);
  if (what === 'number') return new AppError('invalid_parameter', `Invalid parameter: ${shown} must be a finite number.`);
  return new AppError('invalid_parameter', `Invalid parameter: ${shown} contains a character that cannot be stored (a NUL character or an unpaired UTF-16 surrogate).`);
}

/**
 * One check for every route, before its schema: a NUL character or an unpaired surrogate in any
 * field (path, query, form or JSON body, Idempotency-Key) is a 400 naming the field, the same on
 * SQLite and PostgreSQL (which refuses such text and would otherwise answer 500). After the
 * schema has coerced query strings to numbers, an infinite number is refused the same way.
 */
export function rejectUnstorableInput(app: FastifyInstance): void {
  const check = async (request: FastifyRequest) => {
    const found = unstorableInput(request);
    if (found !== undefined) throw refuse(found);
  };
  app.addHook('preValidation', check);
  app.addHook('preHandler', check);
}
