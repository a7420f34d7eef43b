import type { FastifyInstance } from 'fastify';

/** Paths whose answers carry secrets (keys, webhook secrets, QR and pairing codes, sessions). */
const NEVER_CACHED = /^\/(api\/v1|auth)(\/|\?|$)/;

/**
 * Headers every answer carries: no MIME sniffing anywhere, and no caching (by the browser or a
 * proxy) of the API and sign-in answers, errors included.
 */
export function installResponseHeaders(app: FastifyInstance): void {
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    if (NEVER_CACHED.test(request.url)) reply.header('cache-control', 'no-store');
  });
}
