import { isMediaError } from '../../core/url-policy/media-error.js';
import { networkProblem } from '../media/network-problem.js';
import { resolveAllowedAddresses, systemLookup, type LookupFn } from '../../core/url-policy/resolve-host.js';
import { addressPolicy, checkUrlWithPolicy } from '../../core/url-policy/url-check.js';
import type { ReceiverAgents } from './receiver-agents.js';
import { postOnce } from './post-once.js';
import { signatureHeaders } from './signing.js';

export interface WebhookRequest {
  url: string;
  secret: string;
  /** The `webhook-id`: the event's id, the same on every attempt. */
  eventId: string;
  body: Buffer;
  /** Seconds since the epoch for `webhook-timestamp` (wall time: receivers compare it to theirs). */
  timestampSeconds: number;
}

export interface SendOptions {
  allowPrivate: boolean;
  timeoutMs: number;
  agents: ReceiverAgents;
  lookup?: LookupFn;
}

export interface AttemptResult {
  /** The receiver's HTTP status, or null when no answer came. */
  status: number | null;
  ok: boolean;
  /** A sentence for the delivery log when the attempt failed. */
  error: string | null;
  /** The start of the receiver's answer, for the delivery log. */
  response: string | null;
  durationMs: number;
  /** From a Retry-After header, when the receiver sent one. */
  retryAfterMs: number | null;
}

const RESPONSE_KEEP = 500;
const LABEL = 'webhook URL';

/**
 * One delivery attempt: the URL is checked again (DNS may have changed since it was set), the
 * connection goes only to the checked addresses, redirects are not followed, and anything but a
 * 2xx within the time limit is a failure.
 */
export async function sendWebhook(req: WebhookRequest, options: SendOptions): Promise<AttemptResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const failed = (error: string, status: number | null = null, response: string | null = null, retryAfterMs: number | null = null): AttemptResult => ({
    status,
    ok: false,
    error,
    response,
    durationMs: elapsed(),
    retryAfterMs,
  });
  try {
    const allowed = addressPolicy(options.allowPrivate);
    const url = checkUrlWithPolicy(req.url, LABEL, allowed);
    const addresses = await resolveAllowedAddresses(url, LABEL, options.lookup ?? systemLookup, allowed);
    const answer = await postOnce({
      dispatcher: options.agents.get(url, addresses),
      url,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'MessageAPI-Webhooks/1',
        ...signatureHeaders(req.secret, req.eventId, req.timestampSeconds, req.body),
      },
      body: req.body,
      timeoutMs: options.timeoutMs,
      keep: RESPONSE_KEEP,
      readLimit: 64 * 1024,
    });
    const { status, start: response } = answer;
    if (status >= 200 && status <= 299) return { status, ok: true, error: null, response, durationMs: elapsed(), retryAfterMs: null };
    const retryAfterMs = parseRetryAfter(answer.retryAfter, Date.now());
    if (status >= 300 && status <= 399) return failed(`The receiver answered HTTP ${status} (a redirect); redirects are not followed, set the final URL.`, status, response);
    if (status === 410) return failed('The receiver answered HTTP 410 Gone: deliveries to this URL are stopped until it is set again.', status, response);
    return failed(`The receiver answered HTTP ${status}.`, status, response, retryAfterMs);
  } catch (error) {
    if (isMediaError(error)) return failed(error.message);
    // Only the wait for the answer's start can fail the attempt on time: once the status is in, postOnce answers with it.
    if ((error as { code?: unknown } | null)?.code === 'UND_ERR_HEADERS_TIMEOUT') return failed(`The receiver did not answer within ${options.timeoutMs / 1000} s.`);
    return failed(`Could not deliver: ${networkProblem(error)}.`);
  }
}

/** Retry-After in seconds or as an HTTP date, in milliseconds from now; null when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: number): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}
