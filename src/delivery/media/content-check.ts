import { fileTypeFromBuffer } from 'file-type';

export type MediaKind = 'image' | 'document';

const IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/webp', 'image/gif']);

export interface SniffResult {
  /** The accepted mimetype, judged by the bytes; undefined when the bytes are not acceptable. */
  mimetype?: string;
  /** What the bytes look like, when recognisable, for the error message. */
  detected?: string;
}

/** Judges the downloaded bytes, never the server's Content-Type. */
export async function sniffMedia(kind: MediaKind, bytes: Buffer): Promise<SniffResult> {
  if (kind === 'document') {
    if (bytes.subarray(0, 5).toString('latin1') === '%PDF-') {
      return { mimetype: 'application/pdf', detected: 'application/pdf' };
    }
    // file-type also finds "%PDF-" further in; the rule here is the first five bytes.
    const type = await fileTypeFromBuffer(bytes);
    return type && type.mime !== 'application/pdf' ? { detected: type.mime } : {};
  }
  const type = await fileTypeFromBuffer(bytes);
  if (!type) return {};
  // An animated PNG is still a PNG file.
  const mime = type.mime === 'image/apng' ? 'image/png' : type.mime;
  return IMAGE_TYPES.has(mime) ? { mimetype: mime, detected: mime } : { detected: type.mime };
}
