const PROBLEMS: Record<string, string> = {
  ECONNREFUSED: 'the server refused the connection',
  ECONNRESET: 'the connection was reset',
  EHOSTUNREACH: 'the server could not be reached',
  ENETUNREACH: 'the server could not be reached',
  ENOTFOUND: 'the host name could not be found',
  EAI_AGAIN: 'the host name could not be looked up',
  UND_ERR_CONNECT_TIMEOUT: 'connecting to the server timed out',
  UND_ERR_SOCKET: 'the connection broke off',
  UND_ERR_HEADERS_TIMEOUT: 'the server did not answer in time',
  UND_ERR_BODY_TIMEOUT: 'the server stopped sending',
  HPE_INVALID_CONSTANT: 'the server did not answer with valid HTTP',
};

/** A few words for a network error, to end "could not be downloaded: …". */
export function networkProblem(err: unknown): string {
  const code = errorCode(err);
  if (code && PROBLEMS[code]) return PROBLEMS[code];
  if (code && /CERT|SSL|TLS/.test(code)) return 'its TLS certificate could not be verified';
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/\.$/, '') || 'unknown network error';
}

function errorCode(err: unknown): string | undefined {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
