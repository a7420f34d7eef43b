export type MediaErrorCode = 'invalid_url' | 'fetch_failed' | 'too_large' | 'wrong_type' | 'timeout';

/** A media URL that was refused or a download that failed; `message` is a sentence for people. */
export class MediaError extends Error {
  readonly code: MediaErrorCode;

  constructor(code: MediaErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MediaError';
    this.code = code;
  }
}

export function isMediaError(err: unknown): err is MediaError {
  return err instanceof MediaError;
}
