import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { AppError } from '../../core/errors.js';
import { readInboundMedia, type StoredMedia } from '../../core/inbound-media.js';
import type { Runtime } from '../../runtime.js';
import { requireAccount } from '../auth.js';
import { errors, KEY_AUTH, NO_SECURITY } from '../schemas.js';
import type { Authenticate } from './types.js';

const MediaParams = Type.Object({ id: Type.String({ maxLength: 100, description: 'The media id of a received file (`media.id` in message.received)' }) });
const SignedQuery = Type.Object({
  expires: Type.Optional(Type.String({ maxLength: 20, description: 'From the signed link' })),
  sig: Type.Optional(Type.String({ maxLength: 100, description: 'From the signed link' })),
});

// Types a browser may show inline; anything else (HTML, SVG, PDF…) is a download, so a file someone sent cannot run as a page of this site.
const INLINE = /^(image\/(jpeg|png|gif|webp)|audio\/[\w.+-]+|video\/[\w.+-]+)$/i;

const file200 = {
  description: 'The file as it was received, with its MIME type',
  content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' }, example: '<the bytes of the file>' } },
};

function serve(reply: FastifyReply, media: StoredMedia): FastifyReply {
  const inline = INLINE.test(media.mimetype);
  const name = (media.fileName ?? media.id).replace(/["\\\r\n]/g, '_');
  return reply
    .header('content-type', inline ? media.mimetype : 'application/octet-stream')
    .header('content-disposition', `${inline ? 'inline' : 'attachment'}; filename="${name.replace(/[^\x20-\x7e]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(name)}`)
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', "default-src 'none'; sandbox")
    .header('cache-control', 'private, max-age=3600')
    .header('x-media-sha256', media.sha256)
    .send(media.bytes);
}

/** Received files (SPEC §11): by signed, expiring link without a key, or with the account's key or session. */
export function registerMediaRoutes(app: FastifyInstance, runtime: Runtime, authenticate: Authenticate): void {
  app.get(
    '/media/:id',
    {
      schema: {
        tags: ['read'],
        operationId: 'getSignedMedia',
        summary: 'A received file by the signed link a message.received event carries (no key needed until it expires)',
        params: MediaParams,
        querystring: SignedQuery,
        security: NO_SECURITY,
        response: { 200: file200, ...errors('invalid_parameter', 'forbidden', 'not_found') },
      },
    },
    async (request, reply) => {
      const { id } = request.params as Static<typeof MediaParams>;
      const { expires, sig } = request.query as Static<typeof SignedQuery>;
      const check = runtime.inbound.links.check(id, expires, sig, runtime.clock());
      if (check === 'invalid') throw new AppError('forbidden', 'This media link is not valid: use the url of the event exactly as it came, or GET /api/v1/media/{id} with your API key.');
      if (check === 'expired') {
        throw new AppError('forbidden', `This media link expired at ${new Date(Number(expires) * 1000).toISOString()}: fetch the file with GET /api/v1/media/{id} and your API key while it is kept.`);
      }
      return serve(reply, await readInboundMedia(runtime.inbound, id, null));
    },
  );

  app.get(
    '/api/v1/media/:id',
    {
      schema: {
        tags: ['read'],
        operationId: 'getMedia',
        summary: 'A received file (only your own)',
        params: MediaParams,
        response: { 200: file200, ...errors('invalid_parameter', KEY_AUTH, 'not_found') },
      },
      preHandler: authenticate({ allowQueryKey: false }),
    },
    async (request, reply) => {
      const account = requireAccount(request);
      const { id } = request.params as Static<typeof MediaParams>;
      return serve(reply, await readInboundMedia(runtime.inbound, id, account.id));
    },
  );
}
