import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { isSubscriptionActive } from '../../core/accounts.js';
import { AppError } from '../../core/errors.js';
import { getMessage, listMessages, type MessageStatus } from '../../core/messages.js';
import { DEFAULT_PAGE_SIZE } from '../../core/pagination.js';
import { readUsage } from '../../core/quota.js';
import { readRestrictions } from '../../core/restrictions/restrictions.js';
import { parseRecipient } from '../../core/recipients.js';
import type { Runtime } from '../../runtime.js';
import { requireAccount } from '../auth.js';
import { answer, errors, KEY_AUTH, MessageViewSchema, PageQuery, QUERY_KEY_SECURITY, ref } from '../schemas.js';
import type { Authenticate } from './types.js';

const StatusAnswer = answer(
  {
  connected: Type.Boolean(),
  phone: Type.Union([Type.String(), Type.Null()]),
  dailyLimit: Type.Union([Type.Integer(), Type.Null()]),
  messagesToday: Type.Integer(),
  plan: Type.String(),
  state: Type.String(),
  subscriptionActive: Type.Boolean(),
  subscriptionExpiresAt: Type.Union([Type.String(), Type.Null()]),
  restrictions: Type.Object(
    {
      reachoutTimelock: Type.Object({ active: Type.Boolean(), until: Type.Union([Type.String(), Type.Null()]) }),
      newChatCap: Type.Object({ used: Type.Union([Type.Integer(), Type.Null()]), total: Type.Union([Type.Integer(), Type.Null()]), cycleEndsAt: Type.Union([Type.String(), Type.Null()]) }),
    },
    { description: "WhatsApp's limits on the number, as it last reported them (on connect and when they change): null where it has not said" },
  ),
  },
  { restrictions: { reachoutTimelock: { active: false, until: null }, newChatCap: { used: 3, total: 50, cycleEndsAt: '2026-12-07T00:00:00.000Z' } }, connected: true, phone: '12125550100', dailyLimit: 100, messagesToday: 3, plan: 'personal', state: 'connected', subscriptionActive: true, subscriptionExpiresAt: null },
);

const MessagesQuery = Type.Object({
  status: Type.Optional(Type.Union([Type.Literal('scheduled'), Type.Literal('pending'), Type.Literal('sent'), Type.Literal('failed'), Type.Literal('cancelled'), Type.Literal('received')])),
  label: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'Only the messages of the bulk send with this label' })),
  direction: Type.Optional(Type.Union([Type.Literal('out'), Type.Literal('in'), Type.Literal('all')], { description: 'out (default): sent messages; in: received ones; all: both', default: 'out' })),
  chat: Type.Optional(Type.String({ maxLength: 64, description: 'Only this chat: a phone number, a group id or a LID' })),
  ...PageQuery,
});

export function registerReadRoutes(app: FastifyInstance, runtime: Runtime, authenticate: Authenticate): void {
  app.get(
    '/api/v1/status',
    {
      schema: {
        tags: ['read'],
        operationId: 'getStatus',
        summary: 'WhatsApp connection and usage in the rolling 24 hours',
        querystring: Type.Object({ apikey: Type.Optional(Type.String({ maxLength: 200, description: 'Your API key, when you cannot send the X-API-Key header' })) }),
        security: QUERY_KEY_SECURITY,
        response: { 200: StatusAnswer, ...errors('invalid_parameter', KEY_AUTH) },
      },
      preHandler: authenticate({ allowQueryKey: true }),
    },
    async (request) => {
      const account = requireAccount(request);
      const now = runtime.clock();
      const [session, usage, restrictions] = await Promise.all([
        runtime.sessionCalls.session(account.id),
        readUsage(runtime.store.db, account.id, now, { withReset: false }),
        readRestrictions(runtime.store.db, account.id, now),
      ]);
      const connected = session.state === 'connected';
      return {
        success: true as const,
        connected,
        phone: connected ? session.phone : null,
        dailyLimit: runtime.config.plans[account.plan].dailyLimit,
        messagesToday: usage.count,
        plan: account.plan,
        state: session.state,
        subscriptionActive: isSubscriptionActive(account, now),
        subscriptionExpiresAt: account.subscriptionExpiresAt === null ? null : new Date(account.subscriptionExpiresAt).toISOString(),
        restrictions,
      };
    },
  );

  app.get(
    '/api/v1/messages/:id',
    {
      schema: {
        tags: ['read'],
        operationId: 'getMessage',
        summary: "A message's delivery status, or a received message (only your own messages)",
        params: Type.Object({ id: Type.String({ maxLength: 100, description: 'The messageId a send answered with' }) }),
        response: {
          200: Type.Intersect([Type.Object({ success: Type.Literal(true) }), ref(MessageViewSchema)], {
            examples: [{ success: true, ...MessageViewSchema.examples[0] }],
          }),
          ...errors('invalid_parameter', KEY_AUTH, 'not_found'),
        },
      },
      preHandler: authenticate({ allowQueryKey: false }),
    },
    async (request) => {
      const account = requireAccount(request);
      const { id } = request.params as { id: string };
      return { success: true as const, ...(await getMessage(runtime.store, account.id, id)) };
    },
  );

  app.get(
    '/api/v1/messages',
    {
      schema: {
        tags: ['read'],
        operationId: 'listMessages',
        summary: 'Your message log, newest first: sent messages, received ones (direction=in) or both',
        querystring: MessagesQuery,
        response: {
          200: answer(
            { messages: Type.Array(ref(MessageViewSchema)), nextCursor: Type.Union([Type.String(), Type.Null()]) },
            { messages: MessageViewSchema.examples, nextCursor: null },
          ),
          ...errors('invalid_parameter', 'invalid_recipient', KEY_AUTH),
        },
      },
      preHandler: authenticate({ allowQueryKey: false }),
    },
    async (request) => {
      const account = requireAccount(request);
      const query = request.query as Static<typeof MessagesQuery>;
      const page = await listMessages(runtime.store, account.id, {
        status: query.status as MessageStatus | undefined,
        label: query.label,
        direction: query.direction,
        chat: query.chat === undefined ? undefined : parseRecipient(query.chat).value,
        limit: query.limit ?? DEFAULT_PAGE_SIZE,
        cursor: query.cursor,
      });
      return { success: true as const, ...page };
    },
  );

  app.get(
    '/api/v1/groups',
    {
      schema: {
        tags: ['read'],
        operationId: 'listGroups',
        summary: 'Groups of the linked number (Unlimited plan)',
        response: {
          200: answer(
            { groups: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), participants: Type.Integer() })) },
            { groups: [{ id: '120363012345678901@g.us', name: 'Team', participants: 8 }] },
          ),
          ...errors('not_connected', KEY_AUTH, 'plan_restriction', 'session_holder_unavailable'),
        },
      },
      preHandler: authenticate({ allowQueryKey: false }),
    },
    async (request) => {
      const account = requireAccount(request);
      if (!runtime.config.plans[account.plan].groups) {
        throw new AppError('plan_restriction', `Groups need the Unlimited plan; this account is on ${account.plan}.`);
      }
      if (!(await runtime.sessionCalls.isConnected(account.id))) {
        throw new AppError('not_connected', 'WhatsApp is not connected for this account: link your number first.');
      }
      return { success: true as const, groups: await runtime.sessionCalls.groups(account.id) };
    },
  );
}
