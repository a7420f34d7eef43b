import type { ErrorCode } from '../core/errors.js';

/** The one place that gives each stable error code its HTTP status (SPEC §4). */
export const ERROR_STATUS: Readonly<Record<ErrorCode, number>> = Object.freeze({
  missing_parameter: 400,
  invalid_recipient: 400,
  invalid_url: 400,
  invalid_parameter: 400,
  not_connected: 400,
  send_failed: 400,
  invalid_api_key: 401,
  unauthorized: 401,
  csrf_failed: 403,
  account_disabled: 403,
  subscription_inactive: 403,
  plan_restriction: 403,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  request_timeout: 408,
  payload_too_large: 413,
  unsupported_media_type: 415,
  idempotency_key_reused: 422,
  daily_limit_reached: 429,
  too_many_requests: 429,
  headers_too_large: 431,
  service_unavailable: 503,
  internal_error: 500,
});
