import { Type, type Static, type TObject } from '@sinclair/typebox';
import { Value, ValueErrorType } from '@sinclair/typebox/value';
import type { FastifyInstance } from 'fastify';
import { sendBulk, type BulkItem } from '../../core/bulk-send.js';
import { AppError, coerceError } from '../../core/errors.js';
import { rateLimitHeaders } from '../../core/messages.js';
import { cancelLabel } from '../../core/queue/cancel.js';
import type { QueueInput } from '../../core/queue/queue-fields.js';
import type { Runtime } from '../../runtime.js';
import { requireAccount } from '../auth.js';
import { requestFingerprint } from '../request-fingerprint.js';
import { answer, BODY, CHANGE_AUTH, errors } from '../schemas.js';
import { SEND_KIND_ROUTES } from './send-kinds.js';
import { IdempotencyHeaders, REST_SEND_ROUTES, type SendRouteInput } from './send.js';
import type { Authenticate } from './types.js';

const Label = Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9._:-]+$', description: 'Letters, digits and . _ : -' });

/** Each item's own schema and fields are its kind's endpoint's: `type` picks which. */
function kindTable(): Map<string, { body: TObject; toInput: (f: never) => Omit<SendRouteInput, 'wait'> }> {
  const table = new Map<string, { body: TObject; toInput: (f: never) => Omit<SendRouteInput, 'wait'> }>();
  for (const r of REST_SEND_ROUTES) {
    const name = r.url === '/api/v1/send' ? 'text' : r.url.slice(r.url.lastIndexOf('/') + 1);
    table.set(name, {
      body: r.body,
      toInput: ((f: Parameters<typeof r.toInput>[0]) => ({ ...r.toInput(f), extras: { replyTo: f.replyTo, mentions: f.mentions } })) as (f: never) => SendRouteInput,
    });
  }
  for (const r of SEND_KIND_ROUTES) table.set(r.url.slice(r.url.lastIndexOf('/') + 1), { body: r.body, toInput: r.toInput as (f: never) => SendRouteInput });
  return table;
}

const KINDS = kindTable();

const BulkItemSchema = Type.Object(
  {
    type: Type.Optional(Type.String({ maxLength: 20, description: `The kind: ${[...KINDS.keys()].join(', ')} (default text); the other fields are that kind's endpoint's` })),
  },
  { additionalProperties: true },
);

/** One item's fields read as its kind's endpoint reads them; what is wrong is this item's answer. */
function readItem(raw: unknown, index: number): BulkItem {
  const where = `messages[${index}]`;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return new AppError('invalid_parameter', `Invalid parameter: ${where} must be an object.`);
  const { type = 'text', ...fields } = raw as Record<string, unknown>;
  const kind = KINDS.get(String(type));
  if (!kind) return new AppError('invalid_parameter', `Invalid parameter: ${where}.type must be one of ${[...KINDS.keys()].join(', ')}.`);
  const issue = Value.Errors(kind.body, fields).First();
  if (issue) {
    const name = issue.path.replace(/^\//, '').replace(/\//g, '.');
    if (issue.type === ValueErrorType.ObjectRequiredProperty) return new AppError('missing_parameter', `Missing required parameter: ${where}.${name}`);
    return new AppError('invalid_parameter', `Invalid parameter: ${where}.${name} — ${issue.message.toLowerCase()}.`);
  }
  try {
    const input = kind.toInput(fields as never);
    const q = fields as QueueInput;
    return { ...input, queue: { sendAt: q.sendAt, expiresAt: q.expiresAt, ttl: q.ttl, priority: q.priority } };
  } catch (error) {
    if (error instanceof AppError) return error;
    throw coerceError(error);
  }
}

const BulkResultSchema = Type.Union([
  Type.Object({ messageId: Type.String(), status: Type.Union([Type.Literal('pending'), Type.Literal('scheduled')]) }),
  Type.Object({ error: Type.String(), code: Type.String() }),
]);

export function registerBulkRoutes(app: FastifyInstance, runtime: Runtime, authenticate: Authenticate): void {
  const max = runtime.config.sendBulkMaxItems;
  app.post(
    '/api/v1/send/bulk',
    {
      schema: {
        tags: ['send'],
        operationId: 'sendBulk',
        summary: `Send up to ${max} messages of any kind in one request`,
        description:
          'Each item is checked exactly as a single send of its kind (fields, plan rules, daily limit, in item order); the accepted ones are logged in one durable commit before the answer, which has one result per item in order. The label (yours, or one made up) lists the batch (`GET /api/v1/messages?label=`) and cancels what has not gone yet (`POST /api/v1/messages/cancel`). An Idempotency-Key covers the whole batch.',
        headers: IdempotencyHeaders,
        body: Type.Object({
          messages: Type.Array(BulkItemSchema, { minItems: 1, maxItems: max }),
          label: Type.Optional(Label),
        }),
        response: {
          200: answer(
            { label: Type.String(), results: Type.Array(BulkResultSchema) },
            {
              label: 'black-friday',
              results: [
                { messageId: 'msg_01JDQ7Z3K9W2', status: 'pending' },
                { error: 'Invalid recipient: 123 is not a phone number with country code (7 to 15 digits).', code: 'invalid_recipient' },
              ],
            },
          ),
          ...errors('invalid_parameter', 'missing_parameter', 'subscription_inactive', 'idempotency_key_reused', CHANGE_AUTH, BODY),
        },
      },
      preHandler: authenticate({ allowQueryKey: false }),
    },
    async (request, reply) => {
      const account = requireAccount(request);
      const body = request.body as { messages: unknown[]; label?: string };
      const key = request.headers['idempotency-key'];
      const connected = await runtime.sessionCalls.isConnected(account.id);
      const result = await sendBulk(
        runtime.store,
        runtime.config,
        account,
        {
          items: body.messages.map(readItem),
          label: body.label,
          idempotencyKey: typeof key === 'string' ? key : undefined,
          fingerprint: requestFingerprint(request.method, '/api/v1/send/bulk', body as Record<string, unknown>),
          connected,
        },
        runtime.clock(),
      );
      if (!result.replayed) {
        const accepted = result.results.filter((r) => 'messageId' in r).length;
        if (accepted > 0) {
          runtime.metrics.messagesTotal.inc({ status: 'accepted' }, accepted);
          runtime.dispatcher.kick(account.id);
        }
      }
      if (result.rateLimit) reply.headers(rateLimitHeaders(result.rateLimit));
      if (result.replayed) reply.header('Idempotent-Replayed', 'true');
      return { success: true as const, label: result.label, results: result.results };
    },
  );

  const CancelBody = Type.Object({ label: Label });
  app.post(
    '/api/v1/messages/cancel',
    {
      schema: {
        tags: ['messages'],
        operationId: 'cancelLabel',
        summary: 'Cancel every message of a bulk send (by its label) that has not gone yet',
        body: CancelBody,
        response: {
          200: answer(
            { label: Type.String(), cancelled: Type.Integer(), inFlight: Type.Integer({ description: 'Messages already on their way, which could not be stopped' }) },
            { label: 'black-friday', cancelled: 412, inFlight: 1 },
          ),
          ...errors('invalid_parameter', 'missing_parameter', CHANGE_AUTH, BODY),
        },
      },
      preHandler: authenticate({ allowQueryKey: false }),
    },
    async (request) => {
      const account = requireAccount(request);
      const { label } = request.body as Static<typeof CancelBody>;
      const outcome = await cancelLabel(runtime.store, account.id, label);
      return { success: true as const, label, ...outcome };
    },
  );
}
