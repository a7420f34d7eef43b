/** Stable error codes a client program can rely on; src/http/error-registry.ts gives each its HTTP status. */
export type ErrorCode =
  | 'missing_parameter'
  | 'invalid_recipient'
  | 'invalid_url'
  | 'invalid_parameter'
  | 'not_connected'
  | 'send_failed'
  | 'invalid_api_key'
  | 'unauthorized'
  | 'csrf_failed'
  | 'account_disabled'
  | 'subscription_inactive'
  | 'plan_restriction'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'idempotency_key_reused'
  | 'daily_limit_reached'
  | 'reachout_restricted'
  | 'new_chat_limit_reached'
  | 'too_many_requests'
  | 'request_timeout'
  | 'headers_too_large'
  | 'service_unavailable'
  /** Another server process holds the session and did not answer a call forwarded to it in time. */
  | 'session_holder_unavailable'
  | 'internal_error';

/** An expected failure with a sentence a person can act on. Core throws these; http turns them into JSON. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: { messageId?: string; retryAfterSeconds?: number; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = 'AppError';
  }
}

/** Every catch gets a real Error, whatever was thrown. */
export function coerceError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(typeof value === 'string' ? value : JSON.stringify(value));
}
