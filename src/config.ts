import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import net from 'node:net';
import path from 'node:path';

const Bool = Type.Union([Type.Literal('true'), Type.Literal('false'), Type.Literal('1'), Type.Literal('0')]);

const EnvSchema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  HOST: Type.String({ default: '0.0.0.0' }),
  DATA_DIR: Type.String({ default: './data' }),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^(postgres|postgresql|sqlite):' })),
  WHATSAPP_DRIVER: Type.Union([Type.Literal('baileys'), Type.Literal('sandbox')], { default: 'baileys' }),
  WHATSAPP_VERSION: Type.String({ pattern: '^\\d+\\.\\d+\\.\\d+$', default: '2.3000.1043857760' }),
  WHATSAPP_PACING_MIN_MS: Type.Integer({ minimum: 0, default: 800 }),
  WHATSAPP_PACING_MAX_MS: Type.Integer({ minimum: 0, default: 2_000 }),
  WHATSAPP_RECONNECT_GIVE_UP_MS: Type.Integer({ minimum: 1_000, default: 10 * 60_000 }),
  WHATSAPP_LINK_TIMEOUT_MS: Type.Integer({ minimum: 1_000, default: 15_000 }),
  WHATSAPP_QR_TIMEOUT_MS: Type.Optional(Type.Integer({ minimum: 500 })),
  WHATSAPP_MARK_ONLINE: Type.Optional(Bool),
  WHATSAPP_FULL_HISTORY: Type.Optional(Bool),
  WHATSAPP_LOG_LEVEL: Type.String({ default: 'silent' }),
  WHATSAPP_WS_URL: Type.Optional(Type.String({ pattern: '^wss?://' })),
  WHATSAPP_WS_URL_IN_PRODUCTION: Type.Optional(Bool),
  SANDBOX_HANG_AFTER_SENDS: Type.Optional(Type.Integer({ minimum: 1 })),
  SANDBOX_PACING_MIN_MS: Type.Integer({ minimum: 0, default: 0 }),
  SANDBOX_PACING_MAX_MS: Type.Integer({ minimum: 0, default: 0 }),
  MESSAGEAPI_SECRET: Type.Optional(Type.String({ minLength: 16 })),
  PUBLIC_URL: Type.Optional(Type.String()),
  SMTP_URL: Type.Optional(Type.String()),
  MAIL_FROM: Type.Optional(Type.String()),
  ALLOW_PRIVATE_URLS: Type.Optional(Bool),
  SIGNUP_ENABLED: Type.Optional(Bool),
  CALLMEBOT_COMPAT: Type.Optional(Bool),
  LOG_LEVEL: Type.String({ default: 'info' }),
  LOG_FORMAT: Type.Union([Type.Literal('auto'), Type.Literal('json'), Type.Literal('pretty')], { default: 'auto' }),
  PLAN_TRIAL_DAILY_LIMIT: Type.Integer({ minimum: 0, default: 50 }),
  PLAN_PERSONAL_DAILY_LIMIT: Type.Integer({ minimum: 0, default: 150 }),
  PLAN_PERSONAL_MAX_RECIPIENTS: Type.Integer({ minimum: 0, default: 5 }),
  MEDIA_MAX_IMAGE_BYTES: Type.Integer({ minimum: 1, default: 16 * 1024 * 1024 }),
  MEDIA_MAX_DOCUMENT_BYTES: Type.Integer({ minimum: 1, default: 100 * 1024 * 1024 }),
  MEDIA_MAX_VIDEO_BYTES: Type.Integer({ minimum: 1, default: 16 * 1024 * 1024 }),
  MEDIA_MAX_AUDIO_BYTES: Type.Integer({ minimum: 1, default: 16 * 1024 * 1024 }),
  MEDIA_MAX_STICKER_BYTES: Type.Integer({ minimum: 1, default: 1024 * 1024 }),
  MEDIA_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 30_000 }),
  SEND_WAIT_MAX_MS: Type.Integer({ minimum: 0, default: 30_000 }),
  SEND_SCHEDULE_MAX_DAYS: Type.Number({ minimum: 0, maximum: 3650, default: 30 }),
  SEND_EXPIRY_DEFAULT: Type.String({ pattern: '^\\d+(ms|s|m|h|d)?$', default: '24h' }),
  WARMUP_NEW_CHATS_PER_DAY: Type.Integer({ minimum: 0, default: 0 }),
  SEND_BULK_MAX_ITEMS: Type.Integer({ minimum: 1, maximum: 10_000, default: 1_000 }),
  BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, default: 1024 * 1024 }),
  OUTBOX_LOCK_MS: Type.Integer({ minimum: 500, default: 15_000 }),
  SESSION_LEASE_MS: Type.Integer({ minimum: 1_000, default: 20_000 }),
  SESSION_LEASE_RENEW_MS: Type.Integer({ minimum: 100, default: 5_000 }),
  SESSION_SEND_MARGIN_MS: Type.Integer({ minimum: 0, default: 5_000 }),
  SQLITE_SYNCHRONOUS: Type.Union([Type.Literal('FULL'), Type.Literal('NORMAL')], { default: 'FULL' }),
  WEBHOOK_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 60_000, default: 10_000 }),
  WEBHOOK_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 256, default: 8 }),
  EVENT_RETENTION_DAYS: Type.Number({ minimum: 0, default: 7 }),
  INBOUND_MEDIA_MAX_BYTES: Type.Integer({ minimum: 1, default: 100 * 1024 * 1024 }),
  INBOUND_MEDIA_INLINE_MAX_BYTES: Type.Integer({ minimum: 0, default: 256 * 1024 }),
  MEDIA_RETENTION_DAYS: Type.Number({ minimum: 0, default: 7 }),
  REQUEST_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 30_000 }),
  HEADERS_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 10_000 }),
  KEEP_ALIVE_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 5_000 }),
  CONNECTION_TIMEOUT_MS: Type.Integer({ minimum: 0, default: 120_000 }),
  UNAUTHENTICATED_BODIES_MAX: Type.Integer({ minimum: 1, default: 32 }),
  STREAM_RECHECK_MS: Type.Integer({ minimum: 50, default: 2_000 }),
  STREAMS_PER_ACCOUNT: Type.Integer({ minimum: 1, default: 10 }),
  METRICS_TOKEN: Type.Optional(Type.String({ minLength: 16 })),
  API_KEYS_PER_ACCOUNT: Type.Integer({ minimum: 1, default: 20 }),
  WEBHOOK_TESTS_PER_MINUTE: Type.Integer({ minimum: 1, default: 10 }),
  REDELIVERIES_PER_HOUR: Type.Integer({ minimum: 1, default: 100 }),
  TRUST_PROXY: Type.Optional(Type.String({ maxLength: 2000 })),
  PASSWORD_HASH_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 64, default: 2 }),
  PASSWORD_HASH_QUEUE: Type.Integer({ minimum: 0, maximum: 10_000, default: 8 }),
  SIGNIN_REFUSAL_DELAY_MS: Type.Integer({ minimum: 0, maximum: 60_000, default: 1_000 }),
  SIGNIN_REFUSALS_PER_SECOND: Type.Integer({ minimum: 0, maximum: 100_000, default: 20 }),
  SIGNIN_REFUSALS_HELD_MAX: Type.Integer({ minimum: 0, maximum: 100_000, default: 400 }),
});

type Env = Static<typeof EnvSchema>;

export interface PlanLimits {
  readonly dailyLimit: number | null;
  readonly maxRecipients: number | null;
  readonly groups: boolean;
  readonly webhooks: boolean;
}

export const PLAN_NAMES = ['trial', 'personal', 'unlimited'] as const;
export type PlanName = (typeof PLAN_NAMES)[number];

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly databaseUrl: string;
  readonly driver: 'baileys' | 'sandbox';
  /** The Baileys driver: pinned WhatsApp Web version, pacing between sends, reconnect give-up, presence and history. */
  readonly whatsapp: {
    readonly version: readonly [number, number, number];
    readonly pacingMinMs: number;
    readonly pacingMaxMs: number;
    readonly reconnectGiveUpMs: number;
    readonly linkTimeoutMs: number;
    /** How long each QR lives before the next one (unset: WhatsApp Web's 60 s, then 20 s). */
    readonly qrTimeoutMs: number | undefined;
    readonly markOnlineOnConnect: boolean;
    readonly syncFullHistory: boolean;
    readonly libraryLogLevel: string;
    /** Testing aid only: a local WhatsApp Web test server instead of WhatsApp (refused when NODE_ENV=production unless allowed). */
    readonly webSocketUrl: string | undefined;
  };
  /** Testing aid only: the sandbox hangs in the send that puts this many messages on its network (crash tests). */
  readonly sandbox: {
    readonly hangAfterSends: number | undefined;
    /** The pause between one account's sends, as WHATSAPP_PACING_* for the real driver; none by default, so the sandbox answers at once. */
    readonly pacingMinMs: number;
    readonly pacingMaxMs: number;
  };
  readonly secret: string | undefined;
  readonly publicUrl: string | undefined;
  readonly smtpUrl: string | undefined;
  readonly mailFrom: string;
  readonly allowPrivateUrls: boolean;
  /** Anyone may create a Trial account from the dashboard's sign-in page. */
  readonly signupEnabled: boolean;
  /** GET /whatsapp.php answers CallMeBot's clients (on unless CALLMEBOT_COMPAT=false). */
  readonly callMeBotCompat: boolean;
  readonly logLevel: string;
  /** `pretty`: one readable line per request; `json`: one JSON object per line; `auto`: pretty on a terminal. */
  readonly logFormat: 'auto' | 'json' | 'pretty';
  readonly plans: Readonly<Record<PlanName, PlanLimits>>;
  readonly media: {
    readonly maxImageBytes: number;
    readonly maxDocumentBytes: number;
    readonly maxVideoBytes: number;
    readonly maxAudioBytes: number;
    readonly maxStickerBytes: number;
    readonly timeoutMs: number;
  };
  readonly sendWaitMaxMs: number;
  /** How far ahead `sendAt` may be (SEND_SCHEDULE_MAX_DAYS, default 30 days). */
  readonly sendScheduleMaxMs: number;
  /**
   * How long a due message waits for a disconnected session before it fails `expired`
   * (SEND_EXPIRY_DEFAULT, default 24 h), unless the send gave its own `expiresAt`/`ttl`.
   */
  readonly sendExpiryDefaultMs: number;
  /** Warm-up guard: new chats a session may open in 24 hours (WARMUP_NEW_CHATS_PER_DAY); null = off (the default). */
  readonly warmupNewChatsPerDay: number | null;
  /** Items per POST /api/v1/send/bulk (SEND_BULK_MAX_ITEMS, default 1,000). */
  readonly sendBulkMaxItems: number;
  readonly bodyLimitBytes: number;
  readonly sqliteSynchronous: 'FULL' | 'NORMAL';
  /** How long a worker's claim on outbox jobs lasts without renewal (a crashed process's claims expire after it). */
  readonly outboxLockMs: number;
  /**
   * Sessions shared by several processes on one PostgreSQL: a lease's length (a SIGKILLed holder's
   * sessions move after it), how often leases are renewed and the share is worked out, and how long
   * before its lease could end a process stops sending.
   */
  readonly sessionLeases: { readonly leaseMs: number; readonly renewMs: number; readonly marginMs: number };
  /** Webhooks: an attempt's time limit, deliveries in flight per account, how long finished events are kept. */
  readonly webhooks: { readonly timeoutMs: number; readonly concurrencyPerAccount: number; readonly retentionDays: number };
  /**
   * Inbound media: files above `maxBytes` are not kept (the event says why); an account may inline
   * files up to `inlineMaxBytes` as base64; files are kept `retentionDays` (and while an event
   * that refers to them is still being delivered), and that is also how long their links work.
   */
  readonly inboundMedia: { readonly maxBytes: number; readonly inlineMaxBytes: number; readonly retentionDays: number };
  /**
   * Slow and idle clients: the whole request (headers and body) must arrive within requestTimeoutMs,
   * its headers within headersTimeoutMs; an idle keep-alive connection closes after keepAliveTimeoutMs,
   * any socket silent for connectionTimeoutMs (0 = never) is cut.
   */
  readonly http: {
    readonly requestTimeoutMs: number;
    readonly headersTimeoutMs: number;
    readonly keepAliveTimeoutMs: number;
    readonly connectionTimeoutMs: number;
    /** Request bodies read at once before their sender is known (/send.php with its key in the form). */
    readonly unauthenticatedBodiesMax: number;
  };
  /** Live streams (session events): how often their right to see is checked again, and how many one account may hold open. */
  readonly streams: { readonly recheckMs: number; readonly perAccount: number };
  /** When set, GET /metrics requires `Authorization: Bearer <token>`. */
  readonly metricsToken: string | undefined;
  /** Per-account caps on what a key can pile up; beyond them, 429 too_many_requests. */
  readonly accountLimits: { readonly apiKeys: number; readonly webhookTestsPerMinute: number; readonly redeliveriesPerHour: number };
  /** Which proxies may tell the client's address (X-Forwarded-For): none by default, as Fastify's trustProxy takes it. */
  readonly trustProxy: TrustProxy;
  /** Password hashes computed at once, and how many may wait; more are refused with 503. */
  readonly passwordHashing: { readonly concurrency: number; readonly queue: number };
  /**
   * A sign-in or password check refused before any hashing (429 locked, 503 busy) is answered no
   * sooner than `delayMs`, at most `perSecond` of them a second in the order they came (0: no such
   * limit), at most `heldMax` held at once (beyond, at once): a flood of sign-ins kept in flight
   * then gets few answers a second, and costs the server little.
   */
  readonly signinRefusal: { readonly delayMs: number; readonly perSecond: number; readonly heldMax: number };
}

/** false (trust nobody), true (trust every hop: only behind a proxy that overwrites the header), a hop count, or proxy addresses/CIDRs. */
export type TrustProxy = boolean | number | readonly string[];

const PROXY_ADDRESS_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isAddressOrCidr(entry: string): boolean {
  if (PROXY_ADDRESS_NAMES.has(entry)) return true;
  const [address, prefix, extra] = entry.split('/');
  const family = net.isIP(address ?? '');
  if (family === 0 || extra !== undefined) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

/** TRUST_PROXY: `true`/`false`, a hop count, or a comma-separated list of proxy addresses and CIDRs. */
export function parseTrustProxy(value: string | undefined): TrustProxy {
  const text = value?.trim().toLowerCase() ?? '';
  if (text === '' || text === 'false') return false;
  if (text === 'true') return true;
  if (/^\d+$/.test(text)) return Number(text) === 0 ? false : Number(text);
  const entries = text.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  const wrong = entries.find((entry) => !isAddressOrCidr(entry));
  if (wrong !== undefined || entries.length === 0) {
    throw new ConfigError(
      `Invalid configuration: TRUST_PROXY must be true, false, a hop count or a comma-separated list of proxy addresses/CIDRs (e.g. 127.0.0.1,10.0.0.0/8)${wrong === undefined ? '' : `; "${wrong}" is none of these`}.`,
    );
  }
  return entries;
}

export class ConfigError extends Error {}

/** Reads and validates the environment once; the result is frozen. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(EnvSchema.properties)) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const withDefaults = Value.Default(EnvSchema, Value.Convert(EnvSchema, raw)) as Env;
  const errors = [...Value.Errors(EnvSchema, withDefaults)];
  if (errors.length > 0) {
    const first = errors[0]!;
    throw new ConfigError(`Invalid configuration: ${first.path.slice(1)} ${first.message} (got ${JSON.stringify(first.value)})`);
  }
  const e = withDefaults;
  const wsUrlAllowed = e.WHATSAPP_WS_URL_IN_PRODUCTION === 'true' || e.WHATSAPP_WS_URL_IN_PRODUCTION === '1';
  if (e.WHATSAPP_WS_URL && env.NODE_ENV === 'production' && !wsUrlAllowed) {
    throw new ConfigError('WHATSAPP_WS_URL points WhatsApp at a test server and is refused with NODE_ENV=production; set WHATSAPP_WS_URL_IN_PRODUCTION=true if that is really meant.');
  }
  if (e.SANDBOX_HANG_AFTER_SENDS !== undefined && env.NODE_ENV === 'production') {
    throw new ConfigError('SANDBOX_HANG_AFTER_SENDS makes the sandbox hang for crash tests and is refused with NODE_ENV=production.');
  }
  if (e.SESSION_LEASE_RENEW_MS + e.SESSION_SEND_MARGIN_MS >= e.SESSION_LEASE_MS) {
    throw new ConfigError(
      `Invalid configuration: SESSION_LEASE_RENEW_MS (${e.SESSION_LEASE_RENEW_MS}) plus SESSION_SEND_MARGIN_MS (${e.SESSION_SEND_MARGIN_MS}) must be below SESSION_LEASE_MS (${e.SESSION_LEASE_MS}), or a process would stop sending between two renewals.`,
    );
  }
  if (e.WHATSAPP_PACING_MIN_MS > e.WHATSAPP_PACING_MAX_MS) {
    throw new ConfigError(`Invalid configuration: WHATSAPP_PACING_MIN_MS (${e.WHATSAPP_PACING_MIN_MS}) is above WHATSAPP_PACING_MAX_MS (${e.WHATSAPP_PACING_MAX_MS}).`);
  }
  if (e.SANDBOX_PACING_MIN_MS > e.SANDBOX_PACING_MAX_MS) {
    throw new ConfigError(`Invalid configuration: SANDBOX_PACING_MIN_MS (${e.SANDBOX_PACING_MIN_MS}) is above SANDBOX_PACING_MAX_MS (${e.SANDBOX_PACING_MAX_MS}).`);
  }
  if (e.HEADERS_TIMEOUT_MS > e.REQUEST_TIMEOUT_MS) {
    throw new ConfigError(`Invalid configuration: HEADERS_TIMEOUT_MS (${e.HEADERS_TIMEOUT_MS}) is above REQUEST_TIMEOUT_MS (${e.REQUEST_TIMEOUT_MS}).`);
  }
  // A request that waits (a send's `wait`, linking) or a live stream between heartbeats is silent on its socket.
  const longestSilenceMs = Math.max(e.SEND_WAIT_MAX_MS, e.WHATSAPP_LINK_TIMEOUT_MS, 15_000);
  if (e.CONNECTION_TIMEOUT_MS !== 0 && e.CONNECTION_TIMEOUT_MS <= longestSilenceMs) {
    throw new ConfigError(`Invalid configuration: CONNECTION_TIMEOUT_MS (${e.CONNECTION_TIMEOUT_MS}) must be 0 or above ${longestSilenceMs} (SEND_WAIT_MAX_MS, WHATSAPP_LINK_TIMEOUT_MS and the 15 s stream heartbeat).`);
  }
  const dataDir = path.resolve(e.DATA_DIR);
  const config: Config = {
    port: e.PORT,
    host: e.HOST,
    dataDir,
    databaseUrl: e.DATABASE_URL ?? `sqlite:${path.join(dataDir, 'messageapi.db')}`,
    driver: e.WHATSAPP_DRIVER,
    whatsapp: {
      version: e.WHATSAPP_VERSION.split('.').map(Number) as [number, number, number],
      pacingMinMs: e.WHATSAPP_PACING_MIN_MS,
      pacingMaxMs: e.WHATSAPP_PACING_MAX_MS,
      reconnectGiveUpMs: e.WHATSAPP_RECONNECT_GIVE_UP_MS,
      linkTimeoutMs: e.WHATSAPP_LINK_TIMEOUT_MS,
      qrTimeoutMs: e.WHATSAPP_QR_TIMEOUT_MS,
      markOnlineOnConnect: e.WHATSAPP_MARK_ONLINE === 'true' || e.WHATSAPP_MARK_ONLINE === '1',
      syncFullHistory: e.WHATSAPP_FULL_HISTORY === 'true' || e.WHATSAPP_FULL_HISTORY === '1',
      libraryLogLevel: e.WHATSAPP_LOG_LEVEL,
      webSocketUrl: e.WHATSAPP_WS_URL,
    },
    sandbox: { hangAfterSends: e.SANDBOX_HANG_AFTER_SENDS, pacingMinMs: e.SANDBOX_PACING_MIN_MS, pacingMaxMs: e.SANDBOX_PACING_MAX_MS },
    secret: e.MESSAGEAPI_SECRET,
    publicUrl: e.PUBLIC_URL?.replace(/\/+$/, ''),
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM ?? 'MessageAPI <no-reply@localhost>',
    allowPrivateUrls: e.ALLOW_PRIVATE_URLS === 'true' || e.ALLOW_PRIVATE_URLS === '1',
    signupEnabled: e.SIGNUP_ENABLED === 'true' || e.SIGNUP_ENABLED === '1',
    callMeBotCompat: !(e.CALLMEBOT_COMPAT === 'false' || e.CALLMEBOT_COMPAT === '0'),
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    plans: {
      trial: { dailyLimit: e.PLAN_TRIAL_DAILY_LIMIT, maxRecipients: null, groups: false, webhooks: false },
      personal: {
        dailyLimit: e.PLAN_PERSONAL_DAILY_LIMIT,
        maxRecipients: e.PLAN_PERSONAL_MAX_RECIPIENTS,
        groups: false,
        webhooks: false,
      },
      unlimited: { dailyLimit: null, maxRecipients: null, groups: true, webhooks: true },
    },
    media: {
      maxImageBytes: e.MEDIA_MAX_IMAGE_BYTES,
      maxDocumentBytes: e.MEDIA_MAX_DOCUMENT_BYTES,
      maxVideoBytes: e.MEDIA_MAX_VIDEO_BYTES,
      maxAudioBytes: e.MEDIA_MAX_AUDIO_BYTES,
      maxStickerBytes: e.MEDIA_MAX_STICKER_BYTES,
      timeoutMs: e.MEDIA_TIMEOUT_MS,
    },
    sendWaitMaxMs: e.SEND_WAIT_MAX_MS,
    sendScheduleMaxMs: e.SEND_SCHEDULE_MAX_DAYS * 86_400_000,
    sendExpiryDefaultMs: parseDuration(e.SEND_EXPIRY_DEFAULT),
    sendBulkMaxItems: e.SEND_BULK_MAX_ITEMS,
    warmupNewChatsPerDay: e.WARMUP_NEW_CHATS_PER_DAY > 0 ? e.WARMUP_NEW_CHATS_PER_DAY : null,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    sqliteSynchronous: e.SQLITE_SYNCHRONOUS,
    outboxLockMs: e.OUTBOX_LOCK_MS,
    sessionLeases: { leaseMs: e.SESSION_LEASE_MS, renewMs: e.SESSION_LEASE_RENEW_MS, marginMs: e.SESSION_SEND_MARGIN_MS },
    webhooks: { timeoutMs: e.WEBHOOK_TIMEOUT_MS, concurrencyPerAccount: e.WEBHOOK_CONCURRENCY, retentionDays: e.EVENT_RETENTION_DAYS },
    inboundMedia: { maxBytes: e.INBOUND_MEDIA_MAX_BYTES, inlineMaxBytes: e.INBOUND_MEDIA_INLINE_MAX_BYTES, retentionDays: e.MEDIA_RETENTION_DAYS },
    http: {
      requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
      headersTimeoutMs: e.HEADERS_TIMEOUT_MS,
      keepAliveTimeoutMs: e.KEEP_ALIVE_TIMEOUT_MS,
      connectionTimeoutMs: e.CONNECTION_TIMEOUT_MS,
      unauthenticatedBodiesMax: e.UNAUTHENTICATED_BODIES_MAX,
    },
    streams: { recheckMs: e.STREAM_RECHECK_MS, perAccount: e.STREAMS_PER_ACCOUNT },
    metricsToken: e.METRICS_TOKEN,
    accountLimits: { apiKeys: e.API_KEYS_PER_ACCOUNT, webhookTestsPerMinute: e.WEBHOOK_TESTS_PER_MINUTE, redeliveriesPerHour: e.REDELIVERIES_PER_HOUR },
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
    passwordHashing: { concurrency: e.PASSWORD_HASH_CONCURRENCY, queue: e.PASSWORD_HASH_QUEUE },
    signinRefusal: { delayMs: e.SIGNIN_REFUSAL_DELAY_MS, perSecond: e.SIGNIN_REFUSALS_PER_SECOND, heldMax: e.SIGNIN_REFUSALS_HELD_MAX },
    ...overrides,
  };
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

const DURATION_UNITS_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `24h`, `90m`, `2d`, `30s`, `500ms`; a bare number is seconds. */
export function parseDuration(value: string): number {
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(value);
  if (!match) throw new ConfigError(`Invalid configuration: ${value} is not a duration (such as 24h, 90m or 2d).`);
  return Number(match[1]) * DURATION_UNITS_MS[match[2] ?? 's']!;
}
