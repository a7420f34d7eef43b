import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ackEvents, ackedCursor, readEvents, type LoggedEvent } from '../../core/event-log.js';
import { AppError } from '../../core/errors.js';
import type { Runtime } from '../../runtime.js';
import { requireAccount } from '../auth.js';
import { answer, BODY, CHANGE_AUTH, errors, KEY_AUTH } from '../schemas.js';
import type { Authenticate } from './types.js';

const MAX_WAIT_MS = 30_000;
/** How often a long-poll reads the log again when no wake came (another process's events, a wake before its commit). */
const REREAD_MS = 1_000;
/** After a wake that found nothing (it came before its commit), the next read comes this soon. */
const AFTER_WAKE_MS = 20;

const PullQuery = Type.Object({
  after: Type.Optional(Type.Integer({ minimum: 0, description: 'Cursor of the last event handled; acknowledges everything up to it. Default: the last acknowledged cursor' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  wait: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_WAIT_MS, default: 0, description: 'Milliseconds to wait for an event when there is none (long-poll)' })),
});

const EventView = Type.Object({
  cursor: Type.Integer(),
  id: Type.String({ description: 'The webhook-id of this event' }),
  event: Type.String(),
  body: Type.String({ description: 'The JSON body a webhook would POST, byte for byte' }),
});

const EVENT_EXAMPLE = {
  cursor: 42,
  id: 'evt_01JDQ7Z3K9W2',
  event: 'message.received',
  body: '{"event":"message.received","timestamp":"2026-11-30T09:15:00.000Z","message":{"id":"3EB0C431","from":"12125551234","type":"text","text":"hi"}}',
};
const PullAnswer = answer(
  { events: Type.Array(EventView), cursor: Type.Integer({ description: 'Pass as `after` in the next call' }) },
  { events: [EVENT_EXAMPLE], cursor: 42 },
);

const AckBody = Type.Object({ cursor: Type.Integer({ minimum: 0 }) });

const view = (e: LoggedEvent) => ({ cursor: e.cursor, id: e.id, event: e.event, body: e.body });

/** The pull queue: the account's event log read by cursor, for receivers that cannot take a webhook. */
export function registerEventRoutes(app: FastifyInstance, runtime: Runtime, authenticate: Authenticate): void {
  const receivesEvents = (request: Parameters<typeof requireAccount>[0]) => {
    const account = requireAccount(request);
    if (!runtime.config.plans[account.plan].webhooks) {
      throw new AppError('plan_restriction', `Events (webhooks, the pull queue) need the Unlimited plan; this account is on ${account.plan}.`);
    }
    return account;
  };

  app.get(
    '/api/v1/events',
    {
      schema: {
        tags: ['events'],
        operationId: 'pullEvents',
        summary: 'Pull events after a cursor (long-poll with wait), oldest first',
        querystring: PullQuery,
        response: { 200: PullAnswer, ...errors('invalid_parameter', KEY_AUTH, 'plan_restriction') },
      },
      preHandler: authenticate({ allowQueryKey: false }),
    },
    async (request) => {
      const account = receivesEvents(request);
      const query = request.query as Static<typeof PullQuery>;
      const limit = query.limit ?? 100;
      // A cursor given acknowledges what came before it; without one, the consumer resumes where it acknowledged.
      const after = query.after ?? (await ackedCursor(runtime.store, account.id));
      if (query.after !== undefined) await ackEvents(runtime.store, account.id, query.after);
      const deadline = performance.now() + (query.wait ?? 0);
      let woken = false;
      for (;;) {
        const events = await readEvents(runtime.store, account.id, after, limit);
        const left = deadline - performance.now();
        if (events.length > 0 || left <= 0) return { success: true as const, events: events.map(view), cursor: events.at(-1)?.cursor ?? after };
        woken = await runtime.eventDelivery.logWaiters.wait(account.id, Math.min(left, woken ? AFTER_WAKE_MS : REREAD_MS));
      }
    },
  );

  app.post(
    '/api/v1/events/ack',
    {
      schema: {
        tags: ['events'],
        operationId: 'ackEvents',
        summary: 'Acknowledge every event up to a cursor',
        body: AckBody,
        response: { 200: answer({ cursor: Type.Integer() }, { cursor: 42 }), ...errors(CHANGE_AUTH, BODY, 'plan_restriction') },
      },
      preHandler: authenticate({ allowQueryKey: false }),
    },
    async (request) => {
      const account = receivesEvents(request);
      const { cursor } = request.body as Static<typeof AckBody>;
      return { success: true as const, cursor: await ackEvents(runtime.store, account.id, cursor) };
    },
  );
}
