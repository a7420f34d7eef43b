import pino, { type DestinationStream, type Logger } from 'pino';

const API_KEY_ANYWHERE = /msg_[0-9A-Za-z]{8,}/g;
const SIGNING_SECRET_ANYWHERE = /whsec_[0-9A-Za-z+/=]{8,}/g;
const APIKEY_QUERY = /([?&]apikey=)[^&#\s"]*/gi;

export function redactUrl(url: string): string {
  return url.replace(APIKEY_QUERY, '$1[REDACTED]');
}

/**
 * Structured logs with API keys removed wherever they appear: known fields are censored, URLs lose
 * their `apikey` parameter, and as a last guard anything shaped like a key or a webhook signing
 * secret is masked in every line.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      redact: {
        paths: ['req.headers["x-api-key"]', 'req.headers.cookie', 'req.headers["x-csrf-token"]', 'apiKey', '*.apiKey', 'webhookSecret', '*.webhookSecret'],
        censor: '[REDACTED]',
      },
      serializers: {
        req(request: { method?: string; url?: string; id?: string; ip?: string }) {
          return { id: request.id, method: request.method, url: request.url ? redactUrl(request.url) : undefined, remoteAddress: request.ip };
        },
      },
      hooks: {
        streamWrite: (line: string) =>
          line.replace(API_KEY_ANYWHERE, 'msg_[REDACTED]').replace(SIGNING_SECRET_ANYWHERE, 'whsec_[REDACTED]').replace(APIKEY_QUERY, '$1[REDACTED]'),
      },
    },
    destination,
  );
}
