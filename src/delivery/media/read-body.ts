import type { Dispatcher } from 'undici';

type Body = Dispatcher.ResponseData['body'];

/**
 * Reads a response body, refusing it from Content-Length when that already says too much, and
 * otherwise stopping the moment the bytes received pass the cap. Returns null when too large.
 */
export async function readBodyCapped(
  body: Body,
  contentLength: string | undefined,
  maxBytes: number,
): Promise<Buffer | null> {
  const declared = Number(contentLength);
  if (contentLength !== undefined && Number.isFinite(declared) && declared > maxBytes) {
    discardBody(body);
    return null;
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    const buf = chunk as Buffer;
    total += buf.length;
    if (total > maxBytes) {
      discardBody(body);
      return null;
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks, total);
}

/**
 * Drops a body that will not be read. undici's body emits an AbortError when destroyed unread;
 * with no listener that is an uncaught exception, which would take the whole process down.
 */
export function discardBody(body: Body): void {
  body.on('error', () => {});
  body.destroy();
}
