import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import QRCode from 'qrcode';
import type { Runtime } from '../../runtime.js';
import { requireAccount } from '../auth.js';
import { errors, KEY_AUTH } from '../schemas.js';
import type { Authenticate } from '../routes/types.js';
import { endWhenAccessEnds } from '../stream-access.js';
import { StreamSlots } from '../stream-slots.js';

const POLL_MS = 1000;
const HEARTBEAT_MS = 15_000;

/**
 * Server push for the connection page: `GET /api/v1/session/events` is an event stream that sends
 * the session (as `GET /api/v1/session` answers it, QR as a PNG data URL included) at once and
 * again whenever it changes. It asks the driver every second per connected client, which is cheap.
 * The stream lasts only as long as the right to see it: its cookie or key is authenticated again
 * every STREAM_RECHECK_MS, and the stream ends once that fails (signed out, key revoked, account
 * disabled). An account holds at most STREAMS_PER_ACCOUNT streams open.
 */
export function registerSessionEvents(app: FastifyInstance, runtime: Runtime, authenticate: Authenticate): void {
  const open = new Set<ServerResponse>();
  const slots = new StreamSlots(runtime.config.streams.perAccount);
  const authenticateStream = authenticate({ allowQueryKey: false });
  app.addHook('preClose', async () => {
    for (const raw of open) raw.end();
    open.clear();
  });

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
      preHandler: authenticateStream,
    },
    async (request, reply) => {
      const accountId = requireAccount(request).id;
      const release = slots.take(accountId);
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      raw.write('retry: 2000\n\n');
      open.add(raw);

      let last = '';
      let busy = false;
      const tick = async () => {
        if (busy || raw.writableEnded) return;
        busy = true;
        try {
          const view = await runtime.driver.session(accountId);
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
      };
      const recheck = endWhenAccessEnds(request, raw, authenticateStream, accountId, runtime.config.streams.recheckMs);
      const poll = setInterval(() => void tick(), POLL_MS);
      const heartbeat = setInterval(() => raw.writableEnded || raw.write(': ping\n\n'), HEARTBEAT_MS);
      const stop = () => {
        clearInterval(poll);
        clearInterval(heartbeat);
        clearInterval(recheck);
        open.delete(raw);
        release();
      };
      raw.on('close', stop);
      await tick();
    },
  );
}
