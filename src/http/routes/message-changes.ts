import type { Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { refAnswer, SendAnswer } from '../schemas.js';
import { DeleteMessageQuery, EditMessageBody, MessageIdParams } from '../send-schemas.js';
import { IdempotencyHeaders, SEND_ROUTE_ERRORS, type SendResponder } from './send.js';
import type { Authenticate } from './types.js';

/**
 * Editing and deleting a sent message: each is a message of its own in the outbox (durable,
 * idempotent, retried like any send) that WhatsApp receives as a protocol message for the target.
 */
export function registerMessageChangeRoutes(app: FastifyInstance, authenticate: Authenticate, respond: SendResponder): void {
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
        summary: 'Delete a sent message for everyone (WhatsApp allows about 2 days)',
        params: MessageIdParams,
        querystring: DeleteMessageQuery,
        headers: IdempotencyHeaders,
        response: { 200: refAnswer(SendAnswer), ...SEND_ROUTE_ERRORS },
      },
      preHandler: authenticate({ allowQueryKey: false }),
    },
    async (request, reply) => {
      const { id } = request.params as Static<typeof MessageIdParams>;
      const { wait } = request.query as Static<typeof DeleteMessageQuery>;
      return respond(request, reply, { kind: 'revoke', recipient: undefined, text: undefined, mediaUrl: undefined, filename: undefined, extras: { target: id }, wait });
    },
  );
}
