import type { FastifyRequest } from 'fastify';
import type { Account } from '../core/accounts.js';
import { AppError } from '../core/errors.js';
import type { Runtime } from '../runtime.js';
import { aliasedValue } from './send-aliases.js';

declare module 'fastify' {
  interface FastifyRequest {
    account?: Account;
  }
}

/** Another way in (the dashboard's session cookie): returns the account, or undefined to fall back to the key. */
export type AlternativeAuth = (request: FastifyRequest) => Promise<Account | undefined>;

function singleValue(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) throw new AppError('invalid_api_key', 'Invalid API key: send exactly one key.');
  return undefined;
}

/**
 * The account behind a request: the X-API-Key header, or (where the reference allows it) the
 * `apikey` query parameter, or another way in such as the dashboard session.
 */
export function makeAuthenticate(runtime: Runtime, alternatives: AlternativeAuth[] = []) {
  return (options: { allowQueryKey: boolean }) =>
    async (request: FastifyRequest): Promise<void> => {
      const header = singleValue(request.headers['x-api-key']);
      const fromFields = (fields: unknown) => {
        if (!options.allowQueryKey || !fields || typeof fields !== 'object') return undefined;
        const record = fields as Record<string, unknown>;
        singleValue(record.apikey);
        singleValue(record.token);
        return aliasedValue(record, 'apikey');
      };
      // /send.php may carry the key as a query or form field (`apikey`, or `token` as other gateways name it).
      const key = header ?? fromFields(request.query) ?? fromFields(request.body);
      if (key === undefined) {
        for (const alternative of alternatives) {
          const account = await alternative(request);
          if (account) {
            request.account = account;
            return;
          }
        }
      }
      if (key === undefined) throw missingKey(request, options.allowQueryKey);
      request.account = await runtime.auth.authenticate(key.trim(), runtime.clock());
    };
}

/** "Missing API key", saying where this endpoint takes it, and why a `?apikey=` was not read. */
export function missingKey(request: FastifyRequest, allowQueryKey: boolean): AppError {
  if (allowQueryKey) return new AppError('invalid_api_key', 'Missing API key: add apikey=YOUR_KEY to the query (or form), or send it in the X-API-Key header.');
  const query = request.query as Record<string, unknown> | undefined;
  if (query && typeof query === 'object' && 'apikey' in query) {
    return new AppError('invalid_api_key', 'This endpoint takes the API key only in the X-API-Key header, not as ?apikey= in the URL (only /send.php and /api/v1/status read it there).');
  }
  return new AppError('invalid_api_key', 'Missing API key: send it in the X-API-Key header.');
}

export function requireAccount(request: FastifyRequest): Account {
  if (!request.account) throw new AppError('invalid_api_key', 'Missing API key: send it in the X-API-Key header.');
  return request.account;
}
