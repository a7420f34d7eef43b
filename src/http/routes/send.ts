import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.js';
import { rateLimitHeaders } from '../../core/messages.js';
import { sendMessage, type SendInput } from '../../core/send.js';
import type { Runtime } from '../../runtime.js';
import { requireAccount } from '../auth.js';
import { asAppError, sendPlainError } from '../error-handler.js';
import { aliased } from '../field-aliases.js';
import { requestFingerprint } from '../request-fingerprint.js';
import { canonicalSendFields } from '../send-aliases.js';
import { BODY, CHANGE_AUTH, errors, Filename, KEY_AUTH, QUERY_KEY_SECURITY, OPTIONAL_BODY, RecipientField, refAnswer, SendAnswer, Text, UrlField, Wait } from '../schemas.js';
import type { Authenticate } from './types.js';
import { ReplyAndMentions } from '../send-schemas.js';
import { registerSendKindRoutes } from './send-kinds.js';
import { QueueSchemaFields } from '../queue-schema.js';
import type { QueueInput } from '../../core/queue/queue-fields.js';
import { cancelMessage } from '../../core/queue/cancel.js';

const DEFAULT_WAIT_MS = 5000;

const aliasOf = (field: string) => ({ description: `Another name for ${field}` });

/** A text/plain answer of /whatsapp.php, as CallMeBot's clients read them. */
const plainAnswer = (description: string, example: string) => ({ description, content: { 'text/plain': { schema: { type: 'string' }, example } } });

/** /send.php's fields and the names other gateways give them (src/http/send-aliases.ts); other fields are ignored. */
export const SendPhpFields = Type.Object({
  recipient: Type.Optional(RecipientField),
  phone: Type.Optional(Type.String({ ...RecipientField, ...aliasOf('recipient') })),
  to: Type.Optional(Type.String({ ...RecipientField, ...aliasOf('recipient') })),
  number: Type.Optional(Type.String({ ...RecipientField, ...aliasOf('recipient') })),
  chatId: Type.Optional(Type.String({ ...RecipientField, ...aliasOf('recipient') })),
  apikey: Type.Optional(Type.String({ maxLength: 200, description: 'Your API key, when you cannot send the X-API-Key header' })),
  token: Type.Optional(Type.String({ maxLength: 200, ...aliasOf('apikey') })),
  text: Type.Optional(Text),
  body: Type.Optional(Type.String({ ...Text, ...aliasOf('text') })),
  message: Type.Optional(Type.String({ ...Text, ...aliasOf('text') })),
  caption: Type.Optional(Type.String({ ...Text, ...aliasOf('text (the caption of an image or document)') })),
  file: Type.Optional(Type.String({ ...UrlField, description: 'Public URL of an image (JPEG, PNG or WebP) to send; text becomes its caption' })),
  image: Type.Optional(Type.String({ maxLength: 2048, ...aliasOf('file') })),
  document: Type.Optional(Type.String({ ...UrlField, description: 'Public URL of a PDF to send; text becomes its caption' })),
  filename: Type.Optional(Filename),
  wait: Type.Optional(Wait),
  ...QueueSchemaFields,
});
export type SendPhpFields = Static<typeof SendPhpFields>;

const RestText = Type.Object({
  ...ReplyAndMentions,
  recipient: Type.Optional(RecipientField),
  to: Type.Optional(RecipientField),
  text: Type.Optional(Text),
  wait: Type.Optional(Wait),
  ...QueueSchemaFields,
});
const RestImage = Type.Object({
  ...ReplyAndMentions,
  recipient: Type.Optional(RecipientField),
  to: Type.Optional(RecipientField),
  file: Type.Optional(Type.String({ maxLength: 2048, description: 'Public URL of the image (JPEG, PNG or WebP); same as image' })),
  image: Type.Optional(Type.String({ maxLength: 2048, description: 'Public URL of the image (JPEG, PNG or WebP)' })),
  text: Type.Optional(Text),
  caption: Type.Optional(Text),
  wait: Type.Optional(Wait),
  ...QueueSchemaFields,
});
const RestDocument = Type.Object({
  ...ReplyAndMentions,
  recipient: Type.Optional(RecipientField),
  to: Type.Optional(RecipientField),
  document: Type.Optional(Type.String({ maxLength: 2048, description: 'Public URL of the PDF' })),
  filename: Type.Optional(Filename),
  text: Type.Optional(Text),
  caption: Type.Optional(Text),
  wait: Type.Optional(Wait),
  ...QueueSchemaFields,
});
export type RestFields = Partial<Static<typeof RestImage> & Static<typeof RestDocument>>;

/** /api/v1/send, /send/image and /send/document: schema and fields-to-send (also used per item by the bulk send). */
export const REST_SEND_ROUTES: Array<{
  url: string;
  operationId: string;
  summary: string;
  body: typeof RestText | typeof RestImage | typeof RestDocument;
  toInput: (f: RestFields) => Omit<SendInput, 'waitMs' | 'idempotencyKey' | 'idempotencyFingerprint'>;
}> = [
  { url: '/api/v1/send', operationId: 'sendText', summary: 'Send a text message', body: RestText, toInput: (f) => ({
    kind: 'text',
    recipient: aliased(f, 'recipient', 'to').value,
    text: f.text,
    mediaUrl: undefined,
    filename: undefined,
  }) },
  { url: '/api/v1/send/image', operationId: 'sendImage', summary: 'Send an image from a public URL', body: RestImage, toInput: (f) => {
    const media = aliased(f, 'file', 'image');
    return {
      kind: 'image',
      recipient: aliased(f, 'recipient', 'to').value,
      text: aliased(f, 'text', 'caption').value,
      mediaUrl: media.value,
      mediaField: media.field,
      filename: undefined,
    };
  } },
  { url: '/api/v1/send/document', operationId: 'sendDocument', summary: 'Send a PDF from a public URL', body: RestDocument, toInput: (f) => ({
    kind: 'document',
    recipient: aliased(f, 'recipient', 'to').value,
    text: aliased(f, 'text', 'caption').value,
    mediaUrl: f.document,
    filename: f.filename,
  }) },

];

const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({ minLength: 1, maxLength: 255, description: 'Repeat a POST with the same key to get the first answer again instead of a second message' }),
  ),
});

/** What a send can answer besides success (SPEC §4). */
const SEND_ERRORS = ['missing_parameter', 'invalid_recipient', 'invalid_parameter', 'not_connected', 'send_failed', 'subscription_inactive', 'plan_restriction', 'reachout_restricted', 'daily_limit_reached', 'new_chat_limit_reached'] as const;

function idempotencyKey(request: FastifyRequest): string | undefined {
  if (request.method !== 'POST' && request.method !== 'PATCH' && request.method !== 'DELETE') return undefined;
  const value = request.headers['idempotency-key'];
  return typeof value === 'string' ? value : undefined;
}

/** The request's query and body fields as one set (send.php takes either). */
function fieldsOf(request: FastifyRequest): Record<string, unknown> {
  const query = request.query && typeof request.query === 'object' ? request.query : {};
  const body = request.body && typeof request.body === 'object' ? request.body : {};
  // The path's own parameters (the message an edit or delete acts on) belong to the request too.
  const params = request.params && typeof request.params === 'object' ? request.params : {};
  return { ...params, ...query, ...body };
}

/** `sendAt`, `expiresAt`, `ttl` and `priority`, wherever the route's schema took them from. */
export function queueFieldsOf(request: FastifyRequest): QueueInput {
  const f = fieldsOf(request) as QueueInput;
  return { sendAt: f.sendAt, expiresAt: f.expiresAt, ttl: f.ttl, priority: f.priority };
}

export type SendRouteInput = Omit<SendInput, 'waitMs' | 'idempotencyKey' | 'idempotencyFingerprint'> & { wait?: number };
export type SendResponder = (request: FastifyRequest, reply: FastifyReply, input: SendRouteInput) => Promise<{ success: true; messageId: string; status: 'sent' | 'pending' | 'scheduled' | 'cancelled' }>;
/** The error answers of every POST send route beyond /api/v1/send (media, other kinds, edits and deletes). */
export const SEND_ROUTE_ERRORS = errors(SEND_ERRORS, 'invalid_url', 'not_found', CHANGE_AUTH, BODY, 'idempotency_key_reused');
export { IdempotencyHeaders };

export function registerSendRoutes(app: FastifyInstance, runtime: Runtime, authenticate: Authenticate): void {
  const waitCap = runtime.config.sendWaitMaxMs;

  const respond: SendResponder = async (request, reply, input) => {
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
          runtime.dispatcher.kick(account.id);
        },
      },
      account,
      {
        ...input,
        queue: queueFieldsOf(request),
        waitMs: wait,
        idempotencyKey: key,
        idempotencyFingerprint: key === undefined ? undefined : requestFingerprint(request.method, request.routeOptions.url ?? request.url, fieldsOf(request)),
      },
    );
    if (result.rateLimit) reply.headers(rateLimitHeaders(result.rateLimit));
    if (result.replayed) reply.header('Idempotent-Replayed', 'true');
    return { success: true as const, messageId: result.messageId, status: result.status };
  };

  /** Sends what /send.php's fields (under any of their names) describe. */
  const sendFields = (request: FastifyRequest, reply: FastifyReply) => {
    const fields = fieldsOf(request) as SendPhpFields;
    const canonical = canonicalSendFields(fields);
    if (canonical.file && fields.document) {
      throw new AppError('invalid_parameter', 'Invalid parameter: give either file (an image) or document (a PDF), not both.');
    }
    const kind = canonical.file ? 'image' : fields.document ? 'document' : 'text';
    return respond(request, reply, {
      kind,
      recipient: canonical.recipient,
      text: canonical.text,
      mediaUrl: canonical.file ?? fields.document,
      filename: fields.filename,
      wait: fields.wait,
    });
  };
  const sendPhp = (request: FastifyRequest, reply: FastifyReply) => sendFields(request, reply);

  const sendPhpSchema = {
    tags: ['send'],
    summary: 'Send text, an image (file) or a PDF (document) with query or form fields',
    description: 'The key may come as `apikey` instead of the X-API-Key header. Give `file` for an image or `document` for a PDF (not both); without either, `text` is sent.',
    querystring: SendPhpFields,
    security: QUERY_KEY_SECURITY,
  };
  app.get(
    '/send.php',
    { schema: { ...sendPhpSchema, operationId: 'sendPhpGet', response: { 200: refAnswer(SendAnswer), ...errors(SEND_ERRORS, 'invalid_url', KEY_AUTH) } }, preHandler: authenticate({ allowQueryKey: true }) },
    sendPhp,
  );
  app.post(
    '/send.php',
    {
      schema: {
        ...sendPhpSchema,
        operationId: 'sendPhpPost',
        description: `${sendPhpSchema.description} The same fields may come in the query string, a form body or a JSON body; body fields win.`,
        body: Type.Optional(SendPhpFields),
        consumes: ['application/x-www-form-urlencoded', 'application/json'],
        [OPTIONAL_BODY]: true,
        response: { 200: refAnswer(SendAnswer), ...errors(SEND_ERRORS, 'invalid_url', CHANGE_AUTH, BODY, 'idempotency_key_reused', 'service_unavailable') },
      },
      preHandler: authenticate({ allowQueryKey: true }),
    },
    sendPhp,
  );

  if (runtime.config.callMeBotCompat) {
    app.get(
      '/whatsapp.php',
      {
        schema: {
          tags: ['send'],
          operationId: 'sendWhatsappPhp',
          security: QUERY_KEY_SECURITY,
          summary: 'CallMeBot-compatible send (?phone=&text=&apikey=), answered in text/plain; CALLMEBOT_COMPAT=false turns it off',
          querystring: SendPhpFields,
          produces: ['text/plain'],
          response: {
            200: plainAnswer('`Message Sent.` (or `Message queued. …` when the outcome is not known within `wait`) and the message id', 'Message Sent. Message id: msg_01JDQ7Z3K9W2\n'),
            400: plainAnswer('`Error: <sentence> (<code>)`; a message logged before it failed adds its id', 'Error: Missing required parameter: phone (missing_parameter)\n'),
            401: plainAnswer('`Error: <sentence> (invalid_api_key)`', 'Error: Invalid API key. (invalid_api_key)\n'),
            403: plainAnswer('`Error: <sentence> (<code>)`: account_disabled, subscription_inactive or plan_restriction', 'Error: Your subscription is not active, so sending is disabled. (subscription_inactive)\n'),
            429: plainAnswer('`Error: <sentence> (daily_limit_reached)`, with Retry-After', 'Error: Daily limit reached. (daily_limit_reached)\n'),
          },
        },
        preHandler: authenticate({ allowQueryKey: true }),
        errorHandler: (error, request, reply) => sendPlainError(reply, asAppError(error, request, runtime.config.bodyLimitBytes)),
      },
      async (request, reply) => {
        const answer = await sendFields(request, reply);
        // CallMeBot's clients grep for these words; the id lets a script look the message up later.
        const line = answer.status === 'sent' ? 'Message Sent.' : 'Message queued. You will receive it in a few seconds.';
        return reply.type('text/plain; charset=utf-8').send(`${line} Message id: ${answer.messageId}\n`);
      },
    );
  }

  const restRoute = (
    url: string,
    operationId: string,
    summary: string,
    body: typeof RestText | typeof RestImage | typeof RestDocument,
    toInput: (f: RestFields) => Omit<SendInput, 'waitMs' | 'idempotencyKey' | 'idempotencyFingerprint'>,
  ) =>
    app.post(
      url,
      {
        schema: {
          tags: ['send'],
          operationId,
          summary,
          body,
          headers: IdempotencyHeaders,
          response: { 200: refAnswer(SendAnswer), ...errors(SEND_ERRORS, url === '/api/v1/send' ? [] : ['invalid_url'], CHANGE_AUTH, BODY, 'idempotency_key_reused') },
        },
        preHandler: authenticate({ allowQueryKey: false }),
      },
      async (request, reply) => {
        const fields = request.body as RestFields;
        return respond(request, reply, { ...toInput(fields), extras: { replyTo: fields.replyTo, mentions: fields.mentions }, wait: fields.wait });
      },
    );

  for (const r of REST_SEND_ROUTES) restRoute(r.url, r.operationId, r.summary, r.body, r.toInput);

  registerSendKindRoutes(app, authenticate, respond, (accountId, messageId) => cancelMessage(runtime.store, accountId, messageId));
}
