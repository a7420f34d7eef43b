import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import type { Authenticate } from './routes/types.js';
import { endWhenAccessEnds } from './stream-access.js';
import { StreamSlots } from './stream-slots.js';

/** A comment line this often keeps proxies from closing a quiet stream. */
const HEARTBEAT_MS = 15_000;

/**
 * What the live streams (session events, the event log) share: at most `perAccount` of them open
 * per account (429 beyond), the event-stream head, a heartbeat, the right to see checked again
 * every `recheckMs` (the stream ends once that fails), and every stream ended when the server
 * closes. Each stream route keeps one, so its cap counts only its own streams.
 */
export class LiveStreams {
  /** The streams' authentication: header or cookie, never a key in the query string. */
  readonly authenticate: (request: FastifyRequest) => Promise<void>;
  private readonly open = new Set<ServerResponse>();
  private readonly slots: StreamSlots;

  constructor(
    app: FastifyInstance,
    private readonly config: Config['streams'],
    authenticate: Authenticate,
  ) {
    this.slots = new StreamSlots(config.perAccount);
    this.authenticate = authenticate({ allowQueryKey: false });
    app.addHook('preClose', async () => {
      for (const raw of this.open) raw.end();
      this.open.clear();
    });
  }

  /**
   * Takes one of the account's slots (a 429 is thrown before anything is sent), answers 200 with
   * an event stream and returns the raw response, to write events to until it ends. Its slot and
   * timers are given back when it closes, however that happens.
   */
  start(request: FastifyRequest, reply: FastifyReply, accountId: string): ServerResponse {
    const release = this.slots.take(accountId);
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
    this.open.add(raw);
    const recheck = endWhenAccessEnds(request, raw, this.authenticate, accountId, this.config.recheckMs);
    const heartbeat = setInterval(() => raw.writableEnded || raw.write(': ping\n\n'), HEARTBEAT_MS);
    raw.on('close', () => {
      clearInterval(recheck);
      clearInterval(heartbeat);
      this.open.delete(raw);
      release();
    });
    return raw;
  }
}
