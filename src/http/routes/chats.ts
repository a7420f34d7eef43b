import type { Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { markChatRead, sendPresence } from '../../core/chat-actions.js';
import type { Runtime } from '../../runtime.js';
import { requireAccount } from '../auth.js';
import { answer, BODY, CHANGE_AUTH, errors } from '../schemas.js';
import { ChatParams, OkAnswer, PresenceBody, ReadBody } from '../send-schemas.js';
import type { Authenticate } from './types.js';

/** Typing indicators and read marks: sent at once (not queued), counted toward no limit. */
export function registerChatRoutes(app: FastifyInstance, runtime: Runtime, authenticate: Authenticate): void {
  const deps = { store: runtime.store, config: runtime.config, driver: runtime.sessionCalls, clock: runtime.clock };
  app.post(
    '/api/v1/chats/:chat/presence',
    {
      schema: { tags: ['chats'], operationId: 'sendPresence', summary: 'Show typing or recording in a chat, or stop (paused)', params: ChatParams, body: PresenceBody, response: { 200: OkAnswer, ...errors(CHANGE_AUTH, BODY, 'missing_parameter', 'invalid_recipient', 'not_connected', 'plan_restriction', 'subscription_inactive', 'session_holder_unavailable') } },
      preHandler: authenticate({ allowQueryKey: false }),
    },
    async (request) => {
      const { chat } = request.params as Static<typeof ChatParams>;
      await sendPresence(deps, requireAccount(request), chat, (request.body as Static<typeof PresenceBody>).state);
      return { success: true as const };
    },
  );
  app.post(
    '/api/v1/chats/:chat/read',
    {
      schema: { tags: ['chats'], operationId: 'markChatRead', summary: 'Mark received messages read (all in the chat when messageIds is omitted)', params: ChatParams, body: ReadBody, response: { 200: OkAnswer, ...errors(CHANGE_AUTH, BODY, 'missing_parameter', 'invalid_recipient', 'not_connected', 'plan_restriction', 'subscription_inactive', 'session_holder_unavailable') } },
      // A POST without a body means "the whole chat".
      preValidation: async (request) => {
        if (request.body === undefined || request.body === null) request.body = {};
      },
      preHandler: authenticate({ allowQueryKey: false }),
    },
    async (request) => {
      const { chat } = request.params as Static<typeof ChatParams>;
      const body = (request.body ?? {}) as Static<typeof ReadBody>;
      await markChatRead(deps, requireAccount(request), chat, body.messageIds);
      return { success: true as const };
    },
  );
}
