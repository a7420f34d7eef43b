import type { FastifyInstance } from 'fastify';
import QRCode from 'qrcode';
import { watchSessionChanges } from '../../core/sessions.js';
import type { Runtime } from '../../runtime.js';
import { requireAccount } from '../auth.js';
import { errors, KEY_AUTH } from '../schemas.js';
import { LiveStreams } from '../live-streams.js';
import type { Authenticate } from '../routes/types.js';

/** A change is announced (store signals); this re-read only covers an announcement lost on the way. */
const RECHECK_MS = 5_000;

/**
 * Server push for the connection page: `GET /api/v1/session/events` is an event stream that sends
 * the session (as `GET /api/v1/session` answers it, QR as a PNG data URL included) at once and
 * again whenever it changes, in this process or another sharing the database: each recorded change
 * is announced (a QR refresh included), and the stream then reads the session through the session
 * calls (the holder's own view while linking, with its QR).
 * The stream lasts only as long as the right to see it: its cookie or key is authenticated again
 * every STREAM_RECHECK_MS, and the stream ends once that fails (signed out, key revoked, account
 * disabled). An account holds at most STREAMS_PER_ACCOUNT streams open.
 */
export function registerSessionEvents(app: FastifyInstance, runtime: Runtime, authenticate: Authenticate): void {
  const streams = new LiveStreams(app, runtime.config.streams, authenticate);

  app.get(
    '/api/v1/session/events',
    {
      schema: {
        tags: ['session'],
        operationId: 'sessionEvents',
        summary: 'Server-sent events: `session` with the session state (and QR) whenever it changes',
        response: {
          200: {
            description: 'An event stream: `event: session` with the session as GET /api/v1/session answers it, at once and on every change',
            content: { 'text/event-stream': { schema: { type: 'string' }, example: 'retry: 2000\n\nevent: session\ndata: {"success":true,"state":"connected","phone":"12125550100"}\n\n' } },
          },
          ...errors(KEY_AUTH, 'too_many_requests'),
        },
      },
      preHandler: streams.authenticate,
    },
    async (request, reply) => {
      const accountId = requireAccount(request).id;
      const raw = streams.start(request, reply, accountId);

      let last = '';
      let busy = false;
      let again = false;
      const tick = async (): Promise<void> => {
        if (raw.writableEnded) return;
        if (busy) {
          again = true;
          return;
        }
        busy = true;
        again = false;
        try {
          const view = await runtime.sessionCalls.session(accountId);
          const key = JSON.stringify(view);
          if (key !== last) {
            last = key;
            const qrDataUrl = view.qr ? await QRCode.toDataURL(view.qr, { margin: 1, width: 264 }) : null;
            const answer = { success: true, state: view.state, phone: view.phone, reason: view.reason, detail: view.detail, qr: view.qr, qrDataUrl, pairingCode: view.pairingCode };
            if (!raw.writableEnded) raw.write(`event: session\ndata: ${JSON.stringify(answer)}\n\n`);
          }
        } catch (error) {
          request.log.warn({ err: error }, 'session event stream: could not read the session');
        } finally {
          busy = false;
        }
        if (again) await tick();
      };
      const stopWatching = await watchSessionChanges(runtime.store, accountId, () => void tick());
      const poll = setInterval(() => void tick(), RECHECK_MS);
      raw.on('close', () => {
        clearInterval(poll);
        stopWatching();
      });
      if (raw.writableEnded || raw.destroyed) {
        clearInterval(poll);
        stopWatching();
      }
      await tick();
    },
  );
}
