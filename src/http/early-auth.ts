import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../core/errors.js';
import type { Runtime } from '../runtime.js';
import { browserSessionOf } from './dashboard/cookie-auth.js';
import { missingKey } from './auth.js';
import { sendError } from './error-handler.js';

function carriesBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function oneKey(value: unknown): string | undefined {
  if (Array.isArray(value)) throw new AppError('invalid_api_key', 'Invalid API key: send exactly one key.');
  return typeof value === 'string' ? value : undefined;
}

/**
 * Checks, from the headers alone, the credentials of a request that carries a body, and refuses it
 * before its body is read (closing the connection) when they are missing or wrong, so that nobody
 * without a key can make the server hold bodies in memory:
 * - /api/v1: the X-API-Key header or the dashboard's cookie must be there and valid (no /api/v1
 *   route takes a key from the body);
 * - /send.php: a key given in the header or the query must be valid (it may also come in the form
 *   body, which then has to be read).
 * The routes still authenticate as before; this only answers earlier.
 */
export function refuseUnauthenticatedBodies(app: FastifyInstance, runtime: Runtime): void {
  // Bodies read before anyone is known (a /send.php form carrying its key): at most this many at once,
  // so slow clients cannot make the server hold one request body each for them.
  let unauthenticatedBodies = 0;
  const maxUnauthenticatedBodies = runtime.config.http.unauthenticatedBodiesMax;
  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.url === undefined || !carriesBody(request)) return;
    const api = request.url.startsWith('/api/v1/');
    if (!api && request.routeOptions.url !== '/send.php') return;
    try {
      const query = request.query as Record<string, unknown> | undefined;
      const key = oneKey(request.headers['x-api-key']) ?? (api ? undefined : oneKey(query?.apikey));
      if (key !== undefined) await runtime.auth.authenticate(key.trim(), runtime.clock());
      else if (api && !(await browserSessionOf(runtime, request))) throw missingKey(request, false);
      else if (!api) {
        if (unauthenticatedBodies >= maxUnauthenticatedBodies) {
          throw new AppError('service_unavailable', 'The server is busy reading other requests; send the key in the X-API-Key header or the query, or try again in a moment.', { retryAfterSeconds: 1 });
        }
        unauthenticatedBodies += 1;
        reply.raw.once('close', () => (unauthenticatedBodies -= 1));
      }
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      reply.header('connection', 'close');
      return sendError(reply, error);
    }
  });
}
