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
  /** JSON array of the webhook events the account chose; null: the reference's four. */
  webhook_events: string | null;
  /** Inbound media up to this size is also inlined (base64) in `message.received`; 0: never. */
  inline_media_max_bytes: Generated<number>;
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
  /** Queue fields (migration 012). */
  send_at: number | null;
  expires_at: number | null;
  /** 0 high, 1 normal, 2 low. */
  priority: Generated<number>;
  label: string | null;
  error_code: string | null;
  /** Set while a send lane has the message in hand: it can no longer be cancelled. */
  in_flight_at: number | null;
  /** 'out' (sent by the account) or 'in' (received; `recipient` is then the chat it arrived in). */
  direction: Generated<string>;
  /** Who sent a received message (phone digits when known, else the LID); null for sent ones. */
  sender: string | null;
  played_at: number | null;
}

/** Inbound media (migration 013): the bytes in `data` when `storage` is 'database', else in a file under DATA_DIR. */
export interface InboundMediaTable {
  id: string;
  account_id: string;
  message_id: string;
  mimetype: string;
  size: number;
  sha256: string;
  file_name: string | null;
  storage: string;
  data: Buffer | null;
  created_at: number;
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
  /** The message's priority (0 high, 1 normal, 2 low); 1 for other kinds. */
  priority: Generated<number>;
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
  /** The process that put it on the network, and under which lease token (migration 014). */
  sent_by: string | null;
  lease_token: number | null;
}

/** A bulk send's answer under its Idempotency-Key (migration 012). */
export interface BulkRequestsTable {
  account_id: string;
  key: string;
  request_hash: string;
  /** The JSON answer's `results` and `label`. */
  answer: string;
  created_at: number;
}

/** WhatsApp's limits on the linked number as last reported (migration 012). */
export interface AccountRestrictionsTable {
  account_id: string;
  timelock_active: number;
  timelock_until: number | null;
  cap_used: number | null;
  cap_total: number | null;
  cap_cycle_ends_at: number | null;
  updated_at: number;
}

/** New chats opened per account, for the warm-up cap (migration 012). */
export interface WarmupNewChatsTable {
  account_id: string;
  recipient: string;
  created_at: number;
}

export interface EventLogTable {
  account_id: string;
  seq: number;
  event_id: string;
  event: string;
  body: string;
  created_at: number;
  /** The inbound media the event refers to (migration 014): kept while the event is unacknowledged. */
  media_id: Generated<string | null>;
}

/** Which phone number is behind a LID, per account (migration 014). */
export interface LidMappingsTable {
  account_id: string;
  /** The LID jid, `<digits>@lid`. */
  lid: string;
  /** The phone number's digits. */
  phone: string;
  updated_at: number;
}

export interface EventLogHeadsTable {
  account_id: string;
  last_seq: number;
  acked_seq: Generated<number>;
}

export interface Database {
  event_log: EventLogTable;
  lid_mappings: LidMappingsTable;
  bulk_requests: BulkRequestsTable;
  account_restrictions: AccountRestrictionsTable;
  warmup_new_chats: WarmupNewChatsTable;
  event_log_heads: EventLogHeadsTable;
  inbound_media: InboundMediaTable;
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
  /** The id of the process that holds the session (its `wa_processes.id`). */
  owner: string;
  expires_at: number;
  /** Fencing token: grows with every change of holder (migration 014). */
  token: Generated<number>;
  acquired_at: Generated<number>;
}

/** A gateway process sharing the database, with its heartbeat (migration 014). */
export interface WaProcessesTable {
  id: string;
  host: string;
  pid: number;
  started_at: number;
  heartbeat_at: number;
}

export interface BaileysTables {
  wa_auth_creds: WaAuthCredsTable;
  wa_auth_keys: WaAuthKeysTable;
  wa_groups: WaGroupsTable;
  wa_incoming_seen: WaIncomingSeenTable;
  wa_recipients: WaRecipientsTable;
  wa_session_leases: WaSessionLeasesTable;
  wa_processes: WaProcessesTable;
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
  /** The inbound media the event refers to (migration 012): kept while this delivery is pending. */
  media_id: Generated<string | null>;
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

/** Calls forwarded to a session's holder (migration 014); merged into `Database` above. */
export interface SessionCallsTable {
  id: string;
  account_id: string;
  /** The process that holds the session (its lease owner), which runs the call. */
  holder: string;
  /** The process waiting for the answer. */
  caller: string;
  call: string;
  /** JSON array of the call's arguments after the account id. */
  args: string;
  created_at: number;
  /** The caller gives up then; the holder does not start a call past it. */
  deadline: number;
  claimed_at: number | null;
  answered_at: number | null;
  /** JSON: `{ ok: true, value }` or `{ ok: false, code, message }`. */
  answer: string | null;
}

export interface Database {
  session_calls: SessionCallsTable;
}
