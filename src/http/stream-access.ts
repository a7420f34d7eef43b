import type { ServerResponse } from 'node:http';
import type { FastifyRequest } from 'fastify';
import type { Account } from '../core/accounts.js';
import { requireAccount } from './auth.js';

/**
 * Ends a live stream when its right to see ends (signed out, key revoked, account disabled): every
 * `intervalMs` the request is authenticated again from scratch, one check at a time. Any failure
 * ends the stream; a browser's EventSource reconnects and is authenticated anew. Returns the timer
 * to clear when the stream closes.
 */
export function endWhenAccessEnds(
  request: FastifyRequest,
  raw: ServerResponse,
  authenticate: (request: FastifyRequest) => Promise<void>,
  accountId: string,
  intervalMs: number,
): NodeJS.Timeout {
  const stillAllowed = async (): Promise<boolean> => {
    request.account = undefined;
    request.browserSession = undefined; // no cached cookie lookup
    let account: Account | undefined;
    try {
      await authenticate(request);
      account = requireAccount(request);
    } catch {
      return false;
    }
    return account.id === accountId && account.active;
  };
  let checking = false;
  return setInterval(() => {
    if (checking || raw.writableEnded) return;
    checking = true;
    void stillAllowed().then((allowed) => {
      checking = false;
      if (!allowed && !raw.writableEnded) raw.end();
    });
  }, intervalMs);
}
