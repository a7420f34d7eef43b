import type { Dispatcher } from 'undici';

export interface PostAnswer {
  status: number;
  /** The first `keep` bytes of the answer, or null when it had none. */
  start: string | null;
  retryAfter: string | undefined;
}

export interface PostOptions {
  dispatcher: Dispatcher;
  url: URL;
  headers: Record<string, string>;
  body: Buffer;
  /** The answer must start within this, and is cut when it has not ended within it once more. */
  timeoutMs: number;
  /** How much of the answer is kept. */
  keep: number;
  /** Reading stops after this many bytes. */
  readLimit: number;
}

/** A body cut on purpose (long enough, or out of time): the status still counts. */
class EnoughRead extends Error {}

/**
 * One POST through undici's dispatcher API: the answer's status, its `retry-after` and the start
 * of its body, without a body stream. `request()` gave every attempt a Readable, an async
 * iterator and its promises; under a backlog that was a fifth of a delivery's CPU beside a
 * plain client. Rejects when no answer came (the error of undici: connect, timeout, reset).
 */
export function postOnce(options: PostOptions): Promise<PostAnswer> {
  const { url } = options;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let kept = 0;
    let read = 0;
    let status = 0;
    let retryAfter: string | undefined;
    let abort: ((reason?: Error) => void) | undefined;
    let deadline: NodeJS.Timeout | undefined;
    const answer = (): PostAnswer => ({ status, start: kept === 0 ? null : Buffer.concat(chunks).toString('utf8', 0, Math.min(kept, options.keep)), retryAfter });
    options.dispatcher.dispatch(
      {
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        headers: options.headers,
        body: options.body,
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.timeoutMs,
      },
      {
        onConnect(abortRequest) {
          abort = abortRequest;
        },
        onHeaders(statusCode, rawHeaders) {
          status = statusCode;
          for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
            if (rawHeaders[i]!.length === 11 && rawHeaders[i]!.toString('latin1').toLowerCase() === 'retry-after') retryAfter = rawHeaders[i + 1]!.toString('latin1');
          }
          deadline = setTimeout(() => abort?.(new EnoughRead()), options.timeoutMs);
          return true;
        },
        onData(chunk) {
          if (kept < options.keep) {
            chunks.push(chunk);
            kept += chunk.length;
          }
          read += chunk.length;
          if (read > options.readLimit) abort?.(new EnoughRead());
          return true;
        },
        onComplete() {
          clearTimeout(deadline);
          resolve(answer());
        },
        onError(error) {
          clearTimeout(deadline);
          // Once the status is in, a body cut short (by us, the receiver or a timeout) still leaves it.
          if (status !== 0) resolve(answer());
          else reject(error);
        },
      },
    );
  });
}
