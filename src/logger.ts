import pino, { type DestinationStream, type Logger } from 'pino';

const API_KEY_ANYWHERE = /msg_[0-9A-Za-z]{8,}/g;
const SIGNING_SECRET_ANYWHERE = /whsec_[0-9A-Za-z+/=]{8,}/g;
const APIKEY_QUERY = /([?&]apikey=)[^&#\s"]*/gi;
/** A run of URL characters (an encoded key would be one); only runs holding a `%` are decoded. */
const URL_CHARACTER_RUN = /[0-9A-Za-z_.~+%-]+/g;

/** Query parameters whose value is a credential, whatever their case or percent-encoding. */
const SECRET_PARAMETER = /^(api[-_]?key|key|token|access[-_]?token|secret|password|signature|sig|x-amz-signature|x-amz-credential|x-amz-security-token|x-goog-signature|x-goog-credential)$/i;
/** Query parameters that carry a media URL (send.php's `file`/`document`, the REST `image`): logged as origin and path only. */
const MEDIA_PARAMETER = /^(file|document|image)$/i;

/** Percent-decodes until stable (a double-encoded key is still a key); undefined when malformed. */
function decodeFully(text: string): string | undefined {
  let current = text;
  for (let i = 0; i < 3; i++) {
    let next: string;
    try {
      next = decodeURIComponent(current.replace(/\+/g, ' '));
    } catch {
      return undefined;
    }
    if (next === current) return current;
    current = next;
  }
  return current;
}

function holdsSecret(decoded: string): boolean {
  return new RegExp(API_KEY_ANYWHERE.source).test(decoded) || new RegExp(SIGNING_SECRET_ANYWHERE.source).test(decoded);
}

/** A media URL without what usually carries a signature: its query, fragment and user info. */
function mediaUrlForLog(decoded: string): string {
  try {
    const url = new URL(decoded.trim());
    const cut = url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '';
    return encodeURIComponent(`${url.protocol}//${url.host}${url.pathname}`) + (cut ? '%3F[REDACTED]' : '');
  } catch {
    return /[?#@]/.test(decoded) ? '[REDACTED]' : encodeURIComponent(decoded);
  }
}

/**
 * A request URL fit for a log line: parameter names and values are judged on their decoded form, so
 * `?api%6Bey=…` is as redacted as `?apikey=…`; credentials (by name, or by shape anywhere) become
 * [REDACTED], media URLs keep only their origin and path. Everything else is left as sent.
 */
export function redactUrl(url: string): string {
  const mark = url.indexOf('?');
  if (mark === -1) return redactEncoded(url);
  const query = url.slice(mark + 1).replace(/#.*$/, '');
  const pairs = query.split('&').map((pair) => {
    const equals = pair.indexOf('=');
    const rawName = equals === -1 ? pair : pair.slice(0, equals);
    if (equals === -1) return holdsSecret(decodeFully(rawName) ?? rawName) ? '[REDACTED]' : pair;
    const rawValue = pair.slice(equals + 1);
    const name = decodeFully(rawName) ?? rawName;
    const value = decodeFully(rawValue);
    if (SECRET_PARAMETER.test(name.trim())) return `${rawName}=[REDACTED]`;
    if (value === undefined) return `${rawName}=[REDACTED]`;
    if (MEDIA_PARAMETER.test(name.trim())) return `${rawName}=${mediaUrlForLog(value)}`;
    if (holdsSecret(value) || holdsSecret(name)) return `${rawName}=[REDACTED]`;
    return pair;
  });
  return `${redactEncoded(url.slice(0, mark))}?${pairs.join('&')}`;
}

/** Masks percent-encoded spellings of a key or signing secret (the plain ones are masked by the line guard). */
function redactEncoded(text: string): string {
  if (!text.includes('%')) return text;
  return text.replace(URL_CHARACTER_RUN, (run) => (run.includes('%') && holdsSecret(decodeFully(run) ?? '') ? '[REDACTED]' : run));
}

/**
 * Structured logs with API keys removed wherever they appear: known fields are censored, URLs lose
 * their credentials and media query strings, and as a last guard anything shaped like a key or a
 * webhook signing secret, plain or percent-encoded, is masked in every line.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      redact: {
        paths: ['req.headers["x-api-key"]', 'req.headers.cookie', 'req.headers["x-csrf-token"]', 'req.headers.authorization', 'apiKey', '*.apiKey', 'webhookSecret', '*.webhookSecret'],
        censor: '[REDACTED]',
      },
      serializers: {
        req(request: { method?: string; url?: string; id?: string; ip?: string }) {
          return { id: request.id, method: request.method, url: request.url ? redactUrl(request.url) : undefined, remoteAddress: request.ip };
        },
      },
      hooks: {
        streamWrite: (line: string) =>
          redactEncoded(line).replace(API_KEY_ANYWHERE, 'msg_[REDACTED]').replace(SIGNING_SECRET_ANYWHERE, 'whsec_[REDACTED]').replace(APIKEY_QUERY, '$1[REDACTED]'),
      },
    },
    destination,
  );
}
