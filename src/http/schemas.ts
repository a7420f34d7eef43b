import { Type, type Static, type TProperties, type TSchema } from '@sinclair/typebox';
import type { ErrorCode } from '../core/errors.js';
import { ERROR_STATUS } from './error-registry.js';
import { ContentSummarySchema } from './message-content-schema.js';

/*
 * Request fields and the shared response schemas. Each schema with a `$id` is registered once
 * (registerSharedSchemas) and appears in the OpenAPI document under components.schemas; routes
 * point at it with ref(). A new route's schema needs: operationId, summary, tags, its 200 answer
 * with `examples`, and `...errors(<the codes it can return>)` — the lint test (test/http/openapi.test.ts)
 * fails otherwise.
 */

export const Text = Type.String({ maxLength: 65_536, description: 'Message body (caption for media)' });
export const RecipientField = Type.String({ maxLength: 64, description: 'Phone with country code (12125551234), group id (120363…@g.us), or the LID of a sender WhatsApp named only by it (271828182845904@lid)' });
export const UrlField = Type.String({ maxLength: 2048 });
export const Filename = Type.String({ maxLength: 255, description: 'Display name (default document.pdf)' });
export const Wait = Type.Integer({ minimum: 0, description: 'Milliseconds to wait for the outcome (default 5000, 0 = answer at once)' });

const NullableString = Type.Union([Type.String(), Type.Null()]);
const NullableInt = Type.Union([Type.Integer(), Type.Null()]);
const EXAMPLE_TIME = '2026-11-30T09:15:00.000Z';

/** A pointer to a shared schema (registered with its $id), typed as the schema itself. */
export function ref<T extends TSchema & { $id?: string }>(schema: T): T {
  if (!schema.$id) throw new Error('ref() needs a schema with an $id');
  return Type.Unsafe<Static<T>>({ $ref: `${schema.$id}#` }) as unknown as T;
}

/** A shared schema as a whole answer, with its examples (allOf keeps them: siblings of a bare $ref are dropped). */
export function refAnswer<T extends TSchema & { $id?: string; examples?: unknown[] }>(schema: T): T {
  return Type.Unsafe<Static<T>>({ allOf: [ref(schema)], examples: schema.examples }) as unknown as T;
}

/** A route's own answer: success true plus these fields, with one example. */
export function answer<P extends TProperties>(properties: P, example: Record<string, unknown>) {
  return Type.Object({ success: Type.Literal(true), ...properties }, { examples: [{ success: true, ...example }] });
}

export const ErrorBody = Type.Object(
  {
    success: Type.Literal(false),
    error: Type.String({ description: 'A sentence a person can act on' }),
    code: Type.String({ description: 'Stable code a program can rely on; each response lists the codes it can carry' }),
    messageId: Type.Optional(Type.String({ description: 'With send_failed: the logged message' })),
  },
  { $id: 'Error', description: 'Every error (SPEC §4): HTTP status plus a stable code' },
);

export const SendAnswer = Type.Object(
  {
    success: Type.Literal(true),
    messageId: Type.String(),
    status: Type.Union([Type.Literal('sent'), Type.Literal('pending'), Type.Literal('scheduled'), Type.Literal('cancelled')], {
      description: 'pending: still queued after `wait` milliseconds; scheduled: waiting for its sendAt; cancelled: a cancel (DELETE of a scheduled or pending message)',
    }),
  },
  { $id: 'SendResult', examples: [{ success: true, messageId: 'msg_01JDQ7Z3K9W2', status: 'sent' }] },
);

const MessageFields = {
  messageId: Type.String(),
  direction: Type.Union([Type.Literal('out'), Type.Literal('in')], { description: 'out: sent by you; in: received' }),
  status: Type.String({ description: 'scheduled, pending, sent, failed or cancelled for sent messages; received for received ones' }),
  recipient: Type.String({ description: 'The chat: the number or group sent to, or for a received message the sender or group it arrived in' }),
  from: Type.Union([Type.String(), Type.Null()], { description: 'A received message: the sender (phone number when known, else the LID)' }),
  fromLid: NullableString,
  pushName: NullableString,
  participant: Type.Union([Type.String(), Type.Null()], { description: 'A received group message: who wrote it' }),
  waMessageId: Type.String({ description: "WhatsApp's id of the message (a received message's event id)" }),
  type: Type.String({ description: 'text, image, document, video, audio, sticker, location, contact, poll, reaction, edit or revoke' }),
  error: NullableString,
  createdAt: Type.String({ format: 'date-time' }),
  sentAt: NullableString,
  deliveredAt: NullableString,
  readAt: NullableString,
  playedAt: NullableString,
  editedAt: NullableString,
  revokedAt: NullableString,
  errorCode: Type.Union([Type.String(), Type.Null()], { description: 'Why it failed or ended: expired, reachout_restricted, cancelled…' }),
  sendAt: NullableString,
  expiresAt: NullableString,
  priority: Type.String({ description: 'high, normal or low' }),
  label: Type.Union([Type.String(), Type.Null()], { description: 'The label of the bulk send it came in' }),
  content: ContentSummarySchema,
};
const MESSAGE_EXAMPLE = {
  messageId: 'msg_01JDQ7Z3K9W2',
  direction: 'out',
  status: 'sent',
  recipient: '12125551234',
  from: null,
  fromLid: null,
  pushName: null,
  participant: null,
  waMessageId: '3EB0C431D5A2F8E1B7',
  type: 'text',
  error: null,
  createdAt: EXAMPLE_TIME,
  sentAt: EXAMPLE_TIME,
  deliveredAt: EXAMPLE_TIME,
  readAt: null,
  playedAt: null,
  editedAt: null,
  revokedAt: null,
  errorCode: null,
  sendAt: null,
  expiresAt: null,
  priority: 'normal',
  label: null,
  content: { text: 'Hello', fileName: null, media: null },
};
export const MessageViewSchema = Type.Object(MessageFields, { $id: 'Message', examples: [MESSAGE_EXAMPLE] });

export const SessionSchema = Type.Object(
  {
    state: Type.String({ description: 'unlinked, linking, connected or disconnected' }),
    phone: NullableString,
    reason: NullableString,
    detail: NullableString,
    qr: Type.Union([Type.String(), Type.Null()], { description: 'The QR text while linking' }),
    qrDataUrl: Type.Union([Type.String(), Type.Null()], { description: 'The same QR as a PNG data URL' }),
    pairingCode: NullableString,
  },
  { $id: 'Session' },
);
export const SESSION_EXAMPLE = { state: 'connected', phone: '12125550100', reason: null, detail: null, qr: null, qrDataUrl: null, pairingCode: null };

export const SettingsFields = {
  email: Type.String(),
  plan: Type.String(),
  webhookUrl: NullableString,
  webhookSecretPrefix: Type.Union([Type.String(), Type.Null()], { description: 'The start of the signing secret, e.g. whsec_ab12' }),
  webhookState: Type.Union([Type.Literal('none'), Type.Literal('active'), Type.Literal('stopped')], {
    description: '`stopped`: the receiver answered 410 Gone, so deliveries stopped; set the URL again to resume',
  }),
  webhookStoppedAt: NullableString,
  disconnectEmail: Type.Boolean(),
  mailConfigured: Type.Boolean({ description: 'false when the server has no SMTP_URL: no disconnect e-mails are sent' }),
  allowedRecipients: Type.Optional(Type.Array(Type.String(), { description: 'Personal plan only' })),
  webhookEvents: Type.Array(Type.String(), { description: 'The events the webhook and the event log get' }),
  inlineMediaMaxBytes: Type.Integer({ description: 'Received files up to this size come inline (base64) in message.received; 0: never' }),
  inlineMediaLimit: Type.Integer({ description: "The server's cap on inlineMediaMaxBytes (INBOUND_MEDIA_INLINE_MAX_BYTES)" }),
};
export const SettingsSchema = Type.Object(SettingsFields, { $id: 'Settings' });
export const SETTINGS_EXAMPLE = {
  email: 'owner@example.com',
  plan: 'unlimited',
  webhookUrl: 'https://example.com/receiver.php',
  webhookSecretPrefix: 'whsec_ab12',
  webhookState: 'active',
  webhookStoppedAt: null,
  disconnectEmail: true,
  mailConfigured: false,
  webhookEvents: ['message.received', 'message.sent', 'message.failed', 'session.disconnected'],
  inlineMediaMaxBytes: 0,
  inlineMediaLimit: 262144,
};

export const DeliveryFields = {
  id: Type.String(),
  eventId: Type.String({ description: 'The webhook-id header: the same on every attempt and redelivery' }),
  event: Type.String(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('dead')]),
  attempts: Type.Integer(),
  lastStatus: NullableInt,
  lastError: NullableString,
  nextAttemptAt: NullableString,
  createdAt: Type.String(),
  deliveredAt: NullableString,
  test: Type.Boolean(),
};
export const DeliverySchema = Type.Object(DeliveryFields, { $id: 'Delivery' });
export const DELIVERY_EXAMPLE = {
  id: 'dlv_01JDQ8A1',
  eventId: 'evt_01JDQ8A1',
  event: 'message.received',
  status: 'delivered',
  attempts: 1,
  lastStatus: 200,
  lastError: null,
  nextAttemptAt: null,
  createdAt: EXAMPLE_TIME,
  deliveredAt: EXAMPLE_TIME,
  test: false,
};

export const DeliveryAttemptSchema = Type.Object(
  {
    at: Type.String(),
    url: Type.String(),
    status: NullableInt,
    error: NullableString,
    response: Type.Union([Type.String(), Type.Null()], { description: 'The start of the receiver’s answer' }),
    durationMs: Type.Integer(),
  },
  { $id: 'DeliveryAttempt' },
);

export const DayCountSchema = Type.Object({ date: Type.String(), sent: Type.Integer(), failed: Type.Integer(), pending: Type.Integer() }, { $id: 'DayCount' });
export const DAY_EXAMPLE = { date: '2026-11-30', sent: 12, failed: 0, pending: 1 };

export const ApiKeySchema = Type.Object(
  {
    id: Type.String(),
    prefix: Type.String({ description: 'The start of the key, to tell keys apart' }),
    name: Type.Union([Type.String(), Type.Null()], { description: 'The name given at creation, or null' }),
    createdAt: Type.String(),
    lastUsedAt: NullableString,
    revokedAt: NullableString,
  },
  { $id: 'ApiKey' },
);

export const AccountSchema = Type.Object(
  {
    id: Type.String(),
    email: Type.String(),
    plan: Type.String(),
    subscriptionExpiresAt: NullableString,
    subscriptionActive: Type.Boolean(),
    active: Type.Boolean(),
    isAdmin: Type.Boolean(),
    hasPassword: Type.Boolean(),
    createdAt: Type.String(),
    state: Type.String({ description: 'The WhatsApp session state' }),
    phone: NullableString,
    messagesToday: Type.Integer(),
    dailyLimit: NullableInt,
  },
  { $id: 'Account', description: 'An account as an admin sees it' },
);
export const ACCOUNT_EXAMPLE = {
  id: 'acc_01JDQ6',
  email: 'customer@example.com',
  plan: 'personal',
  subscriptionExpiresAt: '2027-01-31T23:59:59.999Z',
  subscriptionActive: true,
  active: true,
  isAdmin: false,
  hasPassword: true,
  createdAt: EXAMPLE_TIME,
  state: 'connected',
  phone: '12125550100',
  messagesToday: 3,
  dailyLimit: 100,
};

/** Every schema above with an $id: registered once on the app, listed under components.schemas. */
export const SHARED_SCHEMAS: readonly TSchema[] = [
  ErrorBody,
  SendAnswer,
  MessageViewSchema,
  SessionSchema,
  SettingsSchema,
  DeliverySchema,
  DeliveryAttemptSchema,
  DayCountSchema,
  ApiKeySchema,
  AccountSchema,
];

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 200, description: 'nextCursor from the previous page' })),
};

/** An example sentence per code, for the documented error answers. */
const ERROR_EXAMPLES: Readonly<Record<ErrorCode, string>> = {
  missing_parameter: 'Missing required parameter: recipient',
  invalid_recipient: 'Invalid recipient "12": use the phone number with country code, 7 to 15 digits (e.g. 12125551234), a group id ending in @g.us, or a sender\'s LID ending in @lid.',
  invalid_url: 'The file URL is missing; give a full address starting with http:// or https://.',
  invalid_parameter: 'Invalid parameter: limit must be at most 1000.',
  not_connected: 'WhatsApp is not connected for this account: link your number (QR code or pairing code) in Settings, then try again.',
  send_failed: 'The message was logged but could not be sent: the recipient is not on WhatsApp',
  invalid_api_key: 'Missing API key: send it in the X-API-Key header.',
  unauthorized: 'Wrong e-mail or password.',
  csrf_failed: 'This change was refused: the X-CSRF-Token header is missing or wrong. Reload the page and try again.',
  subscription_inactive: 'Your subscription is not active, so sending is disabled. Renew it to send again.',
  plan_restriction: 'Webhooks need the Unlimited plan; this account is on personal.',
  new_chat_limit_reached: 'Warm-up limit reached: this number may open 20 new chats in 24 hours. The next one can start in 3 h 10 min (Retry-After: 11400 seconds).',
  reachout_restricted: 'Not sent to 12125559876, a number this account has never chatted with: WhatsApp has restricted this number from starting new chats (reach-out timelock, error 463).',
  forbidden: 'This needs an admin account.',
  not_found: 'No message with id msg_01JDQ7Z3K9W2 in this account.',
  conflict: 'An account with e-mail customer@example.com already exists.',
  payload_too_large: 'The request body is larger than 1048576 bytes.',
  unsupported_media_type: 'Unsupported Content-Type: send JSON with Content-Type: application/json.',
  daily_limit_reached: 'Daily limit reached: your trial plan allows 10 messages in 24 hours. The next one can be sent in 3600 seconds.',
  too_many_requests: 'Too many wrong passwords. Wait 30 seconds and try again.',
  request_timeout: 'The request took too long to arrive: send its headers and body without pausing.',
  headers_too_large: 'The request headers are too large.',
  service_unavailable: 'The server is busy checking other passwords. Try again in a moment.',
  session_holder_unavailable: 'Another server process holds this WhatsApp session and did not answer within 10 seconds; try again in a moment.',
  account_disabled: 'This account is disabled. Ask the operator to enable it again.',
  idempotency_key_reused: 'This Idempotency-Key was already used with a different request in the last 24 hours; use a new key for a new request.',
  internal_error: 'Something went wrong on the server. The error was logged; try again.',
};

/** Security of the two routes that also take the key as `apikey` (the document's default is header or session). */
export const QUERY_KEY_SECURITY: Array<Record<string, string[]>> = [{ apiKeyHeader: [] }, { apiKeyQuery: [] }, { dashboardSession: [] }];
/** Route schema flag: the body may be left out (the plugin would document every body as required). */
export const OPTIONAL_BODY = 'x-optional-body';

/** Security of routes anyone may call. */
export const NO_SECURITY: Array<Record<string, string[]>> = [];

/** Codes of routes that take an API key or the dashboard session. */
export const KEY_AUTH: readonly ErrorCode[] = ['invalid_api_key', 'account_disabled'];
/** Codes of changes (POST, PATCH, DELETE) with a key or session: the session also needs its CSRF token. */
export const CHANGE_AUTH: readonly ErrorCode[] = ['invalid_api_key', 'account_disabled', 'csrf_failed'];
/** Codes of anything that reads a request body. */
export const BODY: readonly ErrorCode[] = ['invalid_parameter', 'payload_too_large', 'unsupported_media_type'];

/**
 * The error answers of a route, one per HTTP status its codes map to (the error registry decides),
 * each the shared Error schema with the codes listed in its description and an example.
 */
export function errors(...groups: Array<ErrorCode | readonly ErrorCode[]>): Record<number, TSchema> {
  const codes = [...new Set(groups.flat())];
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(ERROR_STATUS[code], [...(byStatus.get(ERROR_STATUS[code]) ?? []), code]);
  const responses: Record<number, TSchema> = {};
  for (const [status, list] of [...byStatus].sort((a, b) => a[0] - b[0])) {
    // allOf keeps the description and examples beside the pointer (a bare $ref drops its siblings).
    responses[status] = Type.Unsafe({
      description: `Error; \`code\` is one of: ${list.map((c) => `\`${c}\``).join(', ')}`,
      allOf: [{ $ref: `${ErrorBody.$id}#` }],
      examples: list.map((code) => ({ success: false, error: ERROR_EXAMPLES[code], code })),
    });
  }
  return responses;
}

/** @deprecated Declare the route's own codes with errors(...) instead; kept so routes not yet converted still build. */
export const errorResponses = errors('invalid_parameter', 'invalid_api_key', 'forbidden', 'not_found', 'too_many_requests');
