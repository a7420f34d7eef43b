import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../core/errors.js';
import { DEFAULT_PAGE_SIZE } from '../../core/pagination.js';
import { requireWebhookPlan, rotateWebhookSecret } from '../../core/settings.js';
import { findDelivery, getDelivery, listDeliveries, redeliver, type DeliveryStatus } from '../../core/webhook-deliveries.js';
import { loadTarget } from '../../delivery/webhooks/webhook-deliverer.js';
import type { Runtime } from '../../runtime.js';
import { requireAccount } from '../auth.js';
import { errorResponses, PageQuery } from '../schemas.js';
import { settingsDeps } from './settings.js';
import type { Authenticate } from './types.js';

const NullableString = Type.Union([Type.String(), Type.Null()]);
const NullableInt = Type.Union([Type.Integer(), Type.Null()]);

const Delivery = Type.Object({
  id: Type.String(),
  eventId: Type.String({ description: 'The webhook-id header: the same on every attempt and redelivery' }),
  event: Type.String(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('dead')]),
  attempts: Type.Integer(),
  lastStatus: NullableInt,
  lastError: NullableString,
  nextAttemptAt: NullableString,
  createdAt: Type.String(),
  deliveredAt: NullableString,
  test: Type.Boolean(),
});

const Attempt = Type.Object({
  at: Type.String(),
  url: Type.String(),
  status: NullableInt,
  error: NullableString,
  response: NullableString,
  durationMs: Type.Integer(),
});

const DeliveriesQuery = Type.Object({
  status: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('dead')])),
  ...PageQuery,
});
const IdParams = Type.Object({ id: Type.String({ maxLength: 100 }) });

/** SPEC §5 webhook endpoints: secret rotation, the delivery log, redelivery, "Test incoming". */
export function registerWebhookRoutes(app: FastifyInstance, runtime: Runtime, authenticate: Authenticate): void {
  const preHandler = authenticate({ allowQueryKey: false });
  const tags = ['webhooks'];

  app.post(
    '/api/v1/webhooks/secret',
    {
      schema: {
        tags,
        summary: 'Rotate the signing secret (shown once)',
        response: { 200: Type.Object({ success: Type.Literal(true), webhookSecret: Type.String() }), ...errorResponses },
      },
      preHandler,
    },
    async (request) => ({ success: true as const, webhookSecret: await rotateWebhookSecret(settingsDeps(runtime), requireAccount(request)) }),
  );

  app.get(
    '/api/v1/webhooks/deliveries',
    {
      schema: {
        tags,
        summary: 'Recent webhook deliveries, newest first',
        querystring: DeliveriesQuery,
        response: { 200: Type.Object({ success: Type.Literal(true), deliveries: Type.Array(Delivery), nextCursor: NullableString }), ...errorResponses },
      },
      preHandler,
    },
    async (request) => {
      const query = request.query as Static<typeof DeliveriesQuery>;
      const page = await listDeliveries(runtime.store, requireAccount(request).id, {
        limit: query.limit ?? DEFAULT_PAGE_SIZE,
        cursor: query.cursor,
        status: query.status as DeliveryStatus | undefined,
      });
      return { success: true as const, ...page };
    },
  );

  app.get(
    '/api/v1/webhooks/deliveries/:id',
    {
      schema: {
        tags,
        summary: 'One delivery with its body and every attempt',
        params: IdParams,
        response: {
          200: Type.Object({ success: Type.Literal(true), delivery: Type.Intersect([Delivery, Type.Object({ payload: Type.Unknown(), attemptLog: Type.Array(Attempt) })]) }),
          ...errorResponses,
        },
      },
      preHandler,
    },
    async (request) => ({ success: true as const, delivery: await getDelivery(runtime.store, requireAccount(request).id, (request.params as { id: string }).id) }),
  );

  app.post(
    '/api/v1/webhooks/deliveries/:id/redeliver',
    {
      schema: {
        tags,
        summary: 'Queue the event of a delivery again (same webhook-id and body)',
        params: IdParams,
        response: { 200: Type.Object({ success: Type.Literal(true), delivery: Delivery }), ...errorResponses },
      },
      preHandler,
    },
    async (request) => {
      const account = requireAccount(request);
      const { id } = request.params as { id: string };
      await findDelivery(runtime.store.db, account.id, id);
      requireWebhookPlan(runtime.config, account);
      const target = await loadTarget(runtime.store.db, account.id);
      if (!target?.url) throw new AppError('invalid_parameter', 'No webhook URL is set: set one on the dashboard\'s Webhooks page (or with PATCH /api/v1/settings) before redelivering.');
      const delivery = await redeliver(runtime.store, account.id, id, runtime.clock());
      runtime.eventDelivery.kick();
      return { success: true as const, delivery };
    },
  );

  app.post(
    '/api/v1/webhooks/test',
    {
      schema: {
        tags,
        summary: 'Test incoming: deliver a signed test message.received now',
        description: 'Answers with the receiver\'s HTTP status and the time it took, or `status: null` and `error` when it could not be reached.',
        response: {
          200: Type.Object({
            success: Type.Literal(true),
            status: NullableInt,
            durationMs: Type.Integer(),
            error: Type.Optional(Type.String()),
            deliveryId: Type.String(),
            eventId: Type.String(),
          }),
          ...errorResponses,
        },
      },
      preHandler,
    },
    async (request) => ({ success: true as const, ...(await runtime.eventDelivery.sendTest(requireAccount(request))) }),
  );
}
