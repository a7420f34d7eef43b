import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.js';
import { rateLimitHeaders } from '../../core/messages.js';
import { sendMessage, type SendInput } from '../../core/send.js';
import type { Runtime } from '../../runtime.js';
import { requireAccount } from '../auth.js';
import { aliased } from '../field-aliases.js';
import { requestFingerprint } from '../request-fingerprint.js';
import { ErrorBody, errorResponses, Filename, RecipientField, SendAnswer, Text, UrlField, Wait } from '../schemas.js';
import type { Authenticate } from './types.js';

const DEFAULT_WAIT_MS = 5000;

const SendPhpFields = Type.Object({
  recipient: Type.Optional(RecipientField),
  apikey: Type.Optional(Type.String({ maxLength: 200 })),
  text: Type.Optional(Text),
  file: Type.Optional(UrlField),
  document: Type.Optional(UrlField),
  filename: Type.Optional(Filename),
  wait: Type.Optional(Wait),
});
type SendPhpFields = Static<typeof SendPhpFields>;

const RestText = Type.Object({
  recipient: Type.Optional(RecipientField),
  to: Type.Optional(RecipientField),
  text: Type.Optional(Text),
  wait: Type.Optional(Wait),
});
const RestImage = Type.Object({
  recipient: Type.Optional(RecipientField),
  to: Type.Optional(RecipientField),
  file: Type.Optional(UrlField),
  image: Type.Optional(UrlField),
  text: Type.Optional(Text),
  caption: Type.Optional(Text),
  wait: Type.Optional(Wait),
});
const RestDocument = Type.Object({
  recipient: Type.Optional(RecipientField),
  to: Type.Optional(RecipientField),
  document: Type.Optional(UrlField),
  filename: Type.Optional(Filename),
  text: Type.Optional(Text),
  caption: Type.Optional(Text),
  wait: Type.Optional(Wait),
});
type RestFields = Partial<Static<typeof RestImage> & Static<typeof RestDocument>>;

const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
});

function idempotencyKey(request: FastifyRequest): string | undefined {
  if (request.method !== 'POST') return undefined;
  const value = request.headers['idempotency-key'];
  return typeof value === 'string' ? value : undefined;
}

/** The request's query and body fields as one set (send.php takes either). */
function fieldsOf(request: FastifyRequest): Record<string, unknown> {
  const query = request.query && typeof request.query === 'object' ? request.query : {};
  const body = request.body && typeof request.body === 'object' ? request.body : {};
  return { ...query, ...body };
}

export function registerSendRoutes(app: FastifyInstance, runtime: Runtime, authenticate: Authenticate): void {
  const waitCap = runtime.config.sendWaitMaxMs;

  async function respond(request: FastifyRequest, reply: FastifyReply, input: Omit<SendInput, 'waitMs' | 'idempotencyKey' | 'idempotencyFingerprint'> & { wait?: number }) {
    const account = requireAccount(request);
    const wait = input.wait ?? DEFAULT_WAIT_MS;
    if (wait > waitCap) throw new AppError('invalid_parameter', `Invalid parameter: wait must be at most ${waitCap} milliseconds.`);
    const key = idempotencyKey(request);
    const result = await sendMessage(
      {
        store: runtime.store,
        config: runtime.config,
        driver: runtime.driver,
        notifier: runtime.notifier,
        clock: runtime.clock,
        onAccepted: () => {
          runtime.metrics.messagesTotal.inc({ status: 'accepted' });
          runtime.dispatcher.kick();
        },
      },
      account,
      {
        ...input,
        waitMs: wait,
        idempotencyKey: key,
        idempotencyFingerprint: key === undefined ? undefined : requestFingerprint(request.method, request.routeOptions.url ?? request.url, fieldsOf(request)),
      },
    );
    if (result.rateLimit) reply.headers(rateLimitHeaders(result.rateLimit));
    if (result.replayed) reply.header('Idempotent-Replayed', 'true');
    return { success: true as const, messageId: result.messageId, status: result.status };
  }

  const sendPhp = async (request: FastifyRequest, reply: FastifyReply) => {
    const query = (request.query ?? {}) as SendPhpFields;
    const body = (request.body && typeof request.body === 'object' ? request.body : {}) as SendPhpFields;
    const fields: SendPhpFields = { ...query, ...body };
    if (fields.file && fields.document) {
      throw new AppError('invalid_parameter', 'Invalid parameter: give either file (an image) or document (a PDF), not both.');
    }
    const kind = fields.file ? 'image' : fields.document ? 'document' : 'text';
    return respond(request, reply, {
      kind,
      recipient: fields.recipient,
      text: fields.text,
      mediaUrl: fields.file ?? fields.document,
      filename: fields.filename,
      wait: fields.wait,
    });
  };

  const sendPhpSchema = {
    tags: ['send'],
    summary: 'Send text, an image (file) or a PDF (document) with query or form fields',
    querystring: SendPhpFields,
    response: { 200: SendAnswer, ...errorResponses },
  };
  app.get('/send.php', { schema: sendPhpSchema, preHandler: authenticate({ allowQueryKey: true }) }, sendPhp);
  app.post(
    '/send.php',
    { schema: { ...sendPhpSchema, body: Type.Optional(SendPhpFields) }, preHandler: authenticate({ allowQueryKey: true }) },
    sendPhp,
  );

  const restRoute = (url: string, summary: string, body: typeof RestText | typeof RestImage | typeof RestDocument, toInput: (f: RestFields) => Omit<SendInput, 'waitMs' | 'idempotencyKey' | 'idempotencyFingerprint'>) =>
    app.post(
      url,
      {
        schema: { tags: ['send'], summary, body, headers: IdempotencyHeaders, response: { 200: SendAnswer, ...errorResponses, 422: ErrorBody } },
        preHandler: authenticate({ allowQueryKey: false }),
      },
      async (request, reply) => {
        const fields = request.body as RestFields;
        return respond(request, reply, { ...toInput(fields), wait: fields.wait });
      },
    );

  restRoute('/api/v1/send', 'Send a text message', RestText, (f) => ({
    kind: 'text',
    recipient: aliased(f, 'recipient', 'to').value,
    text: f.text,
    mediaUrl: undefined,
    filename: undefined,
  }));
  restRoute('/api/v1/send/image', 'Send an image from a public URL', RestImage, (f) => {
    const media = aliased(f, 'file', 'image');
    return {
      kind: 'image',
      recipient: aliased(f, 'recipient', 'to').value,
      text: aliased(f, 'text', 'caption').value,
      mediaUrl: media.value,
      mediaField: media.field,
      filename: undefined,
    };
  });
  restRoute('/api/v1/send/document', 'Send a PDF from a public URL', RestDocument, (f) => ({
    kind: 'document',
    recipient: aliased(f, 'recipient', 'to').value,
    text: aliased(f, 'text', 'caption').value,
    mediaUrl: f.document,
    filename: f.filename,
  }));
}
