import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../core/errors.js';
import { ackedCursor, readEvents } from '../../core/event-log.js';
import type { Runtime } from '../../runtime.js';
import { requireAccount } from '../auth.js';
import { LiveStreams } from '../live-streams.js';
import { errors, KEY_AUTH } from '../schemas.js';
import type { Authenticate } from './types.js';

const REREAD_MS = 1_000;
const AFTER_WAKE_MS = 20;
const PAGE = 100;

const StreamQuery = Type.Object({
  after: Type.Optional(Type.Integer({ minimum: 0, description: 'Start after this cursor (the Last-Event-ID header wins). Default: the last acknowledged cursor' })),
});
const StreamHeaders = Type.Object({ 'last-event-id': Type.Optional(Type.String({ pattern: '^\\d{1,15}$' })) });

/**
 * `GET /api/v1/events/stream`: the account's event log as server-sent events, `id:` the cursor,
 * `event:` the event name, `data:` the webhook body. A client that reconnects with Last-Event-ID
 * (EventSource does) continues right after the last event it got: nothing missed, nothing twice,
 * within EVENT_RETENTION_DAYS. Like the session stream it is authenticated again every
 * STREAM_RECHECK_MS and ends when that fails, and an account holds at most STREAMS_PER_ACCOUNT open.
 */
export function registerEventStream(app: FastifyInstance, runtime: Runtime, authenticate: Authenticate): void {
  const streams = new LiveStreams(app, runtime.config.streams, authenticate);

  app.get(
    '/api/v1/events/stream',
    {
      schema: {
        tags: ['events'],
        operationId: 'streamEvents',
        summary: 'Server-sent events from the event log, resumable with Last-Event-ID',
        querystring: StreamQuery,
        headers: StreamHeaders,
        response: {
          200: {
            description: 'An event stream: `id` is the cursor, `event` the event name, `data` the body a webhook would POST',
            content: {
              'text/event-stream': {
                schema: { type: 'string' },
                example: 'id: 42\nevent: message.received\ndata: {"event":"message.received","timestamp":"2026-11-30T09:15:00.000Z","message":{"id":"3EB0C431"}}\n\n',
              },
            },
          },
          ...errors('invalid_parameter', KEY_AUTH, 'plan_restriction', 'too_many_requests'),
        },
      },
      preHandler: streams.authenticate,
    },
    async (request, reply) => {
      const account = requireAccount(request);
      if (!runtime.config.plans[account.plan].webhooks) {
        throw new AppError('plan_restriction', `Events (webhooks, the pull queue, the event stream) need the Unlimited plan; this account is on ${account.plan}.`);
      }
      const accountId = account.id;
      const lastEventId = (request.headers as Static<typeof StreamHeaders>)['last-event-id'];
      let cursor = lastEventId !== undefined ? Number(lastEventId) : ((request.query as Static<typeof StreamQuery>).after ?? (await ackedCursor(runtime.store, accountId)));
      const raw = streams.start(request, reply, accountId);

      let woken = false;
      while (!raw.writableEnded && !raw.destroyed) {
        try {
          const events = await readEvents(runtime.store, accountId, cursor, PAGE);
          for (const e of events) {
            if (raw.writableEnded) break;
            raw.write(`id: ${e.cursor}\nevent: ${e.event}\ndata: ${e.body}\n\n`);
            cursor = e.cursor;
          }
          if (events.length === PAGE) continue;
        } catch (error) {
          request.log.warn({ err: error }, 'event stream: could not read the event log');
        }
        woken = await runtime.eventDelivery.logWaiters.wait(accountId, woken ? AFTER_WAKE_MS : REREAD_MS);
      }
    },
  );
}
