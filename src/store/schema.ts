import type { Generated } from 'kysely';

/** Times are milliseconds since the epoch, stored as integers on both databases. */
export interface AccountsTable {
  id: string;
  email: string;
  password_hash: string | null;
  plan: string;
  subscription_expires_at: number | null;
  active: number;
  is_admin: number;
  webhook_url: string | null;
  webhook_secret: string | null;
  disconnect_email: number;
  created_at: number;
}

export interface ApiKeysTable {
  id: string;
  account_id: string;
  prefix: string;
  key_hash: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
  /** Chosen by the account to tell its keys apart; null when none was given. */
  name: string | null;
}

export interface MessagesTable {
  seq: Generated<number>;
  id: string;
  account_id: string;
  recipient: string;
  kind: string;
  text: string | null;
  media_url: string | null;
  filename: string | null;
  status: string;
  error: string | null;
  wa_message_id: string;
  created_at: number;
  sent_at: number | null;
  delivered_at: number | null;
  read_at: number | null;
  /** JSON (core/message-content.ts); null for text/image/document sent before migration 010. */
  content: string | null;
  edited_at: number | null;
  revoked_at: number | null;
}

/** Accepted messages per account and minute (`Date / 60 000`), split into shards (see quota.ts). */
export interface UsageMinutesTable {
  account_id: string;
  minute: number;
  shard: number;
  count: number;
}

/** The same counts per hour (minute / 60), so a window's whole hours are summed in ≤ 24 rows a shard. */
export interface UsageHoursTable {
  account_id: string;
  hour: number;
  shard: number;
  count: number;
}

export interface AllowedRecipientsTable {
  account_id: string;
  recipient: string;
  created_at: number;
}

export interface IdempotencyKeysTable {
  account_id: string;
  key: string;
  message_id: string;
  created_at: number;
  /** SHA-256 of the first request's method, route and fields; null for keys stored before it was kept. */
  request_hash: string | null;
}

export interface OutboxTable {
  seq: Generated<number>;
  kind: string;
  account_id: string;
  ref: string;
  attempts: number;
  run_at: number;
  locked_until: number | null;
  locked_by: string | null;
  last_error: string | null;
  created_at: number;
}

export interface WaSessionsTable {
  account_id: string;
  state: string;
  phone: string | null;
  reason: string | null;
  detail: string | null;
  updated_at: number;
}

export interface SandboxSendsTable {
  seq: Generated<number>;
  account_id: string;
  message_id: string;
  wa_message_id: string;
  recipient: string;
  kind: string;
  at: number;
  /** JSON content summary of what went out. */
  content: string | null;
}

export interface EventLogTable {
  account_id: string;
  seq: number;
  event_id: string;
  event: string;
  body: string;
  created_at: number;
}

export interface EventLogHeadsTable {
  account_id: string;
  last_seq: number;
  acked_seq: Generated<number>;
}

export interface Database {
  event_log: EventLogTable;
  event_log_heads: EventLogHeadsTable;
  accounts: AccountsTable;
  api_keys: ApiKeysTable;
  messages: MessagesTable;
  usage_minutes: UsageMinutesTable;
  usage_hours: UsageHoursTable;
  allowed_recipients: AllowedRecipientsTable;
  idempotency_keys: IdempotencyKeysTable;
  outbox: OutboxTable;
  wa_sessions: WaSessionsTable;
  sandbox_sends: SandboxSendsTable;
  browser_sessions: BrowserSessionsTable;
  login_attempts: LoginAttemptsTable;
  setup_tokens: SetupTokensTable;
}

/** Dashboard sign-ins: `id` is the SHA-256 of the cookie's value, never the value itself. */
export interface BrowserSessionsTable {
  id: string;
  account_id: string;
  csrf_token: string;
  user_agent: string | null;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
}

/** Wrong passwords per `email:…` and per `ip:…`. */
export interface LoginAttemptsTable {
  key: string;
  failures: number;
  last_failure_at: number;
  blocked_until: number;
}

export interface SetupTokensTable {
  token_hash: string;
  created_at: number;
  expires_at: number;
}

/** Baileys driver (migration 003). `data` columns are SecretBox ciphertext. */
export interface WaAuthCredsTable {
  account_id: string;
  data: string;
  /** 1 once a phone has linked this device (creds carry an account identity). */
  linked: number;
  updated_at: number;
}

export interface WaAuthKeysTable {
  account_id: string;
  type: string;
  key_id: string;
  data: string;
}

export interface WaGroupsTable {
  account_id: string;
  group_id: string;
  name: string;
  participants: number;
  updated_at: number;
}

export interface WaIncomingSeenTable {
  account_id: string;
  wa_message_id: string;
  at: number;
}

export interface WaRecipientsTable {
  account_id: string;
  phone: string;
  /** The chat id WhatsApp answered, or null: not on WhatsApp. */
  jid: string | null;
  checked_at: number;
}

export interface WaSessionLeasesTable {
  account_id: string;
  owner: string;
  expires_at: number;
}

export interface BaileysTables {
  wa_auth_creds: WaAuthCredsTable;
  wa_auth_keys: WaAuthKeysTable;
  wa_groups: WaGroupsTable;
  wa_incoming_seen: WaIncomingSeenTable;
  wa_recipients: WaRecipientsTable;
  wa_session_leases: WaSessionLeasesTable;
}

/** Merged into `Database` above. */
export interface Database extends BaileysTables {}

/** Webhooks and e-mail (migration 002); merged into `Database` above. */
export interface WebhookDeliveriesTable {
  seq: Generated<number>;
  id: string;
  event_id: string;
  account_id: string;
  event: string;
  payload: string;
  test: number;
  status: string;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  next_attempt_at: number | null;
  created_at: number;
  delivered_at: number | null;
  finished_at: number | null;
  /** 1 for a copy queued by redeliver (they are counted per hour). */
  redelivery: number;
}

export interface WebhookAttemptsTable {
  seq: Generated<number>;
  delivery_id: string;
  at: number;
  url: string;
  status: number | null;
  error: string | null;
  response: string | null;
  duration_ms: number;
}

export interface WebhookRetiredUrlsTable {
  account_id: string;
  url: string;
  status: number;
  at: number;
}

export interface EmailsTable {
  id: string;
  account_id: string;
  to_address: string;
  subject: string;
  text_body: string;
  html_body: string;
  status: string;
  attempts: number;
  last_error: string | null;
  created_at: number;
  sent_at: number | null;
  finished_at: number | null;
}

export interface Database {
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  webhook_retired_urls: WebhookRetiredUrlsTable;
  emails: EmailsTable;
}
