import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import formbody from '@fastify/formbody';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { TrustProxy } from './config.js';
import { AppError } from './core/errors.js';
import { makeAuthenticate, type AlternativeAuth } from './http/auth.js';
import { dashboardAuth, registerDashboard } from './http/dashboard/index.js';
import { clientErrorHandler } from './http/client-errors.js';
import { refuseUnauthenticatedBodies } from './http/early-auth.js';
import { installErrorHandling, sendError } from './http/error-handler.js';
import { installJsonBodyParser } from './http/json-body.js';
import { registerSharedSchemas, swaggerOptions, swaggerUiOptions } from './http/openapi.js';
import { installResponseHeaders } from './http/response-headers.js';
import { registerEventStream } from './http/routes/event-stream.js';
import { registerEventRoutes } from './http/routes/events.js';
import { registerOperationsRoutes } from './http/routes/operations.js';
import { registerReceiverRoutes } from './http/routes/receivers.js';
import { registerReadRoutes } from './http/routes/read.js';
import { registerMediaRoutes } from './http/routes/media.js';
import { registerSandboxRoutes } from './http/routes/sandbox.js';
import { registerSendRoutes } from './http/routes/send.js';
import { registerBulkRoutes } from './http/routes/bulk.js';
import { registerChatRoutes } from './http/routes/chats.js';
import { registerSessionRoutes } from './http/routes/session.js';
import { registerSettingsRoutes } from './http/routes/settings.js';
import { registerWebhookRoutes } from './http/routes/webhooks.js';
import { rejectUnstorableInput } from './http/storable-input.js';
import type { Runtime } from './runtime.js';

export interface AppOptions {
  /** Extra ways to authenticate /api/v1 requests (the dashboard session). */
  alternativeAuth?: AlternativeAuth[];
  /** More routes, registered after the API's own (webhooks, dashboard). */
  plugins?: Array<(app: FastifyInstance, runtime: Runtime, authenticate: ReturnType<typeof makeAuthenticate>) => Promise<void> | void>;
}

/**
 * X-Forwarded-For is believed only from the proxies TRUST_PROXY names: anyone can write it. A hop
 * count becomes "the first n hops", as in Express (this Fastify treats a bare number as trust-none).
 */
function fastifyTrustProxy(trust: TrustProxy): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof trust === 'number') return (_address, hop) => hop < trust;
  return typeof trust === 'boolean' ? trust : [...trust];
}

const JSON_TYPE = /^application\/([\w.+-]+\+)?json\b/i;

/** Builds the HTTP app from the runtime's parts. It never listens: server.ts does, tests use inject(). */
export async function buildApp(runtime: Runtime, options: AppOptions = {}): Promise<FastifyInstance> {
  const timeouts = runtime.config.http;
  const app: FastifyInstance = Fastify({
    loggerInstance: runtime.log as FastifyBaseLogger,
    bodyLimit: runtime.config.bodyLimitBytes,
    trustProxy: fastifyTrustProxy(runtime.config.trustProxy),
    requestIdHeader: false,
    // Slow and idle clients are cut off (a streamed answer is not: the request timeout ends when the request has arrived).
    requestTimeout: timeouts.requestTimeoutMs,
    keepAliveTimeout: timeouts.keepAliveTimeoutMs,
    connectionTimeout: timeouts.connectionTimeoutMs,
    http: {
      requestTimeout: timeouts.requestTimeoutMs,
      headersTimeout: timeouts.headersTimeoutMs,
      // Node checks the request and header timeouts on this interval (30 s by default, far too coarse).
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(timeouts.headersTimeoutMs / 4))),
    },
    clientErrorHandler: clientErrorHandler(runtime.log as FastifyBaseLogger),
    // Malformed URLs are rejected before routing; they get the same JSON error shape as the rest.
    frameworkErrors: (_error, _request, reply) => {
      sendError(reply, new AppError('invalid_parameter', 'The request URL is malformed (check its percent-encoding).'));
    },
    // verbose: an error carries the value it is about (a field given twice arrives as a list).
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false, allErrors: false, useDefaults: true, verbose: true } },
  });
  installErrorHandling(app, runtime.config.bodyLimitBytes);
  installJsonBodyParser(app);
  installResponseHeaders(app);

  await app.register(cors, {
    origin: '*',
    methods: ['GET', 'POST', 'PATCH', 'DELETE', 'OPTIONS'],
    allowedHeaders: ['Content-Type', 'X-API-Key', 'Idempotency-Key', 'X-CSRF-Token'],
    exposedHeaders: ['RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'Retry-After', 'Idempotent-Replayed'],
    maxAge: 86_400,
  });
  await app.register(formbody, { bodyLimit: runtime.config.bodyLimitBytes });
  await app.register(cookie);
  refuseUnauthenticatedBodies(app, runtime);
  await app.register(swagger, swaggerOptions(runtime.config));
  await app.register(swaggerUi, swaggerUiOptions());
  registerSharedSchemas(app);

  // The JSON API takes JSON only (SPEC §4: 415 otherwise); /send.php also takes forms.
  app.addHook('preValidation', async (request) => {
    if (!request.url.startsWith('/api/v1/') || (request.method !== 'POST' && request.method !== 'PATCH')) return;
    const hasBody = request.body !== undefined && request.body !== null;
    const type = request.headers['content-type'];
    if (hasBody && (typeof type !== 'string' || !JSON_TYPE.test(type))) {
      throw new AppError('unsupported_media_type', 'Unsupported Content-Type: send JSON with Content-Type: application/json.');
    }
  });
  rejectUnstorableInput(app);
  // While shutting down, answers close their connection, so a keep-alive client cannot hold the exit open.
  let draining = false;
  app.addHook('preClose', async () => {
    draining = true;
  });
  app.addHook('onSend', async (_request, reply) => {
    if (draining) reply.header('connection', 'close');
  });
  app.addHook('onResponse', async (request, reply) => {
    runtime.metrics.httpRequests.inc({ method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) });
  });

  // The dashboard's session cookie is a way into /api/v1 too (SPEC §4: the dashboard is a client of the same API).
  const authenticate = makeAuthenticate(runtime, [dashboardAuth(runtime), ...(options.alternativeAuth ?? [])]);
  registerOperationsRoutes(app, runtime);
  registerSendRoutes(app, runtime, authenticate);
  registerBulkRoutes(app, runtime, authenticate);
  registerChatRoutes(app, runtime, authenticate);
  registerReadRoutes(app, runtime, authenticate);
  registerMediaRoutes(app, runtime, authenticate);
  registerSessionRoutes(app, runtime, authenticate);
  registerSandboxRoutes(app, runtime, authenticate);
  registerSettingsRoutes(app, runtime, authenticate);
  registerWebhookRoutes(app, runtime, authenticate);
  registerEventRoutes(app, runtime, authenticate);
  registerEventStream(app, runtime, authenticate);
  registerReceiverRoutes(app, runtime, authenticate);
  for (const plugin of options.plugins ?? []) await plugin(app, runtime, authenticate);
  await registerDashboard(app, runtime, authenticate);

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.ready();
  return app;
}
