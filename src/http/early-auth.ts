import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../core/errors.js';
import type { Runtime } from '../runtime.js';
import { browserSessionOf } from './dashboard/cookie-auth.js';
import { sendError } from './error-handler.js';

function carriesBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * A request to /api/v1 with a body must carry its credentials in its headers (the X-API-Key header
 * or the dashboard's cookie; no /api/v1 route takes a key from the body). When they are missing or
 * wrong, the request is refused before its body is read, and the connection closes, so that nobody
 * without a key can make the server hold bodies in memory. The routes still authenticate as before.
 */
export function refuseUnauthenticatedBodies(app: FastifyInstance, runtime: Runtime): void {
  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/api/v1/') || request.routeOptions.url === undefined || !carriesBody(request)) return;
    try {
      const key = request.headers['x-api-key'];
      if (Array.isArray(key)) throw new AppError('invalid_api_key', 'Invalid API key: send exactly one key.');
      if (key !== undefined) await runtime.auth.authenticate(key.trim(), runtime.clock());
      else if (!(await browserSessionOf(runtime, request))) throw new AppError('invalid_api_key', 'Missing API key: send it in the X-API-Key header.');
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      reply.header('connection', 'close');
      return sendError(reply, error);
    }
  });
}
