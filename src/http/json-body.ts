import type { FastifyInstance } from 'fastify';

/**
 * JSON bodies as Fastify parses them, except an empty one on a route that takes no body (a
 * cancel, a logout, a webhook test): many HTTP clients send `Content-Type:
 * application/json` on every request, and such a call is complete without a body. A route that
 * does take one still answers "The request body is empty" (FST_ERR_CTP_EMPTY_JSON_BODY).
 */
export function installJsonBodyParser(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '' && request.routeOptions.schema?.body === undefined) {
      done(null, undefined);
      return;
    }
    parseJson(request, body.toString(), done);
  });
}
