import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../core/errors.js';
import { DEFAULT_PAGE_SIZE } from '../../core/pagination.js';
import { requireWebhookPlan, rotateWebhookSecret } from '../../core/settings.js';
import { findDelivery, getDelivery, listDeliveries, redeliver, type DeliveryStatus } from '../../core/webhook-deliveries.js';
import { loadTarget } from '../../delivery/webhooks/webhook-deliverer.js';
import type { Runtime } from '../../runtime.js';
import { requireAccount } from '../auth.js';
import { answer, BODY, CHANGE_AUTH, DELIVERY_EXAMPLE, DeliveryAttemptSchema, DeliveryFields, DeliverySchema, errors, KEY_AUTH, PageQuery, ref } from '../schemas.js';
import { settingsDeps } from './settings.js';
import type { Authenticate } from './types.js';

const NullableInt = Type.Union([Type.Integer(), Type.Null()]);
const DeliveryDetail = Type.Object({ ...DeliveryFields, payload: Type.Unknown({ description: 'The JSON body that was sent' }), attemptLog: Type.Array(ref(DeliveryAttemptSchema)) });

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
        operationId: 'rotateWebhookSecret',
        summary: 'Rotate the signing secret (shown once)',
        response: { 200: answer({ webhookSecret: Type.String() }, { webhookSecret: 'whsec_ab12cd34ef56gh78ij90kl12mn34op56' }), ...errors(CHANGE_AUTH, BODY, 'plan_restriction') },
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
        operationId: 'listWebhookDeliveries',
        summary: 'Recent webhook deliveries, newest first',
        querystring: DeliveriesQuery,
        response: {
          200: answer({ deliveries: Type.Array(ref(DeliverySchema)), nextCursor: Type.Union([Type.String(), Type.Null()]) }, { deliveries: [DELIVERY_EXAMPLE], nextCursor: null }),
          ...errors('invalid_parameter', KEY_AUTH),
        },
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
        operationId: 'getWebhookDelivery',
        summary: 'One delivery with its body and every attempt',
        params: IdParams,
        response: {
          200: answer(
            { delivery: DeliveryDetail },
            {
              delivery: {
                ...DELIVERY_EXAMPLE,
                payload: { type: 'message.received', data: { from: '12125551234', text: 'Hi' } },
                attemptLog: [{ at: '2026-11-30T09:15:00.000Z', url: 'https://example.com/receiver.php', status: 200, error: null, response: 'ok', durationMs: 84 }],
              },
            },
          ),
          ...errors('invalid_parameter', KEY_AUTH, 'not_found'),
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
        operationId: 'redeliverWebhook',
        summary: 'Queue the event of a delivery again (same webhook-id and body); while the event is still queued, the answer is its pending delivery',
        params: IdParams,
        response: {
          200: answer(
            {
              delivery: ref(DeliverySchema),
              queued: Type.Boolean({ description: 'false: the event was still queued, and `delivery` is its pending delivery' }),
            },
            { delivery: { ...DELIVERY_EXAMPLE, status: 'pending', deliveredAt: null }, queued: true },
          ),
          ...errors(CHANGE_AUTH, BODY, 'plan_restriction', 'not_found', 'too_many_requests'),
        },
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
      const { delivery, queued } = await redeliver(runtime.store, account.id, id, runtime.clock(), runtime.config.accountLimits.redeliveriesPerHour);
      if (queued) runtime.eventDelivery.kick();
      return { success: true as const, delivery, queued };
    },
  );

  app.post(
    '/api/v1/webhooks/test',
    {
      schema: {
        tags,
        operationId: 'testWebhook',
        summary: 'Test incoming: deliver a signed test message.received now',
        description: 'Answers with the receiver\'s HTTP status and the time it took, or `status: null` and `error` when it could not be reached. At most WEBHOOK_TESTS_PER_MINUTE a minute per account (429 beyond).',
        response: {
          200: answer(
            { status: NullableInt, durationMs: Type.Integer(), error: Type.Optional(Type.String()), deliveryId: Type.String(), eventId: Type.String() },
            { status: 200, durationMs: 84, deliveryId: 'dlv_01JDQ8A1', eventId: 'evt_01JDQ8A1' },
          ),
          ...errors(CHANGE_AUTH, BODY, 'plan_restriction'),
        },
      },
      preHandler,
    },
    async (request) => ({ success: true as const, ...(await runtime.eventDelivery.sendTest(requireAccount(request))) }),
  );
}
