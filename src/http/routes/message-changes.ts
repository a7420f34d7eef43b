import type { Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { errors, refAnswer, SendAnswer } from '../schemas.js';
import { DeleteMessageQuery, EditMessageBody, MessageIdParams } from '../send-schemas.js';
import { IdempotencyHeaders, SEND_ROUTE_ERRORS, type SendResponder } from './send.js';
import type { Authenticate } from './types.js';
import type { CancelAnswer } from '../../core/queue/cancel.js';
import { requireAccount } from '../auth.js';

export type Canceller = (accountId: string, messageId: string) => Promise<CancelAnswer>;

/**
 * Editing and deleting a sent message: each is a message of its own in the outbox (durable,
 * idempotent, retried like any send) that WhatsApp receives as a protocol message for the target.
 */
export function registerMessageChangeRoutes(app: FastifyInstance, authenticate: Authenticate, respond: SendResponder, cancel: Canceller): void {
  app.patch(
    '/api/v1/messages/:id',
    {
      schema: {
        tags: ['messages'],
        operationId: 'editMessage',
        summary: 'Edit a sent text or caption (WhatsApp allows about 15 minutes)',
        params: MessageIdParams,
        body: EditMessageBody,
        headers: IdempotencyHeaders,
        response: { 200: refAnswer(SendAnswer), ...SEND_ROUTE_ERRORS },
      },
      preHandler: authenticate({ allowQueryKey: false }),
    },
    async (request, reply) => {
      const { id } = request.params as Static<typeof MessageIdParams>;
      const body = request.body as Static<typeof EditMessageBody>;
      return respond(request, reply, { kind: 'edit', recipient: undefined, text: body.text, mediaUrl: undefined, filename: undefined, extras: { target: id }, wait: body.wait });
    },
  );
  app.delete(
    '/api/v1/messages/:id',
    {
      schema: {
        tags: ['messages'],
        operationId: 'deleteMessage',
        summary: 'Cancel a scheduled or pending message, or delete a sent one for everyone (WhatsApp allows about 2 days)',
        description:
          'A message not yet sent (`scheduled`, or `pending` and not yet in the hands of a send lane) is cancelled: it never goes, its quota comes back, and the answer says `cancelled`. One already on its way answers 409 `conflict`. A sent message is deleted for everyone, as a message of its own.',
        params: MessageIdParams,
        querystring: DeleteMessageQuery,
        headers: IdempotencyHeaders,
        response: { 200: refAnswer(SendAnswer), ...SEND_ROUTE_ERRORS, ...errors('conflict') },
      },
      preHandler: authenticate({ allowQueryKey: false }),
    },
    async (request, reply) => {
      const { id } = request.params as Static<typeof MessageIdParams>;
      const { wait } = request.query as Static<typeof DeleteMessageQuery>;
      if ((await cancel(requireAccount(request).id, id)) === 'cancelled') return { success: true as const, messageId: id, status: 'cancelled' as const };
      return respond(request, reply, { kind: 'revoke', recipient: undefined, text: undefined, mediaUrl: undefined, filename: undefined, extras: { target: id }, wait });
    },
  );
}
