import { fileTypeFromBuffer } from 'file-type';

export type MediaKind = 'image' | 'document' | 'video' | 'audio' | 'sticker';

const IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/webp', 'image/gif']);
/** What each kind accepts, by the type file-type finds in the bytes. */
const ACCEPTED: Record<Exclude<MediaKind, 'document'>, ReadonlySet<string>> = {
  image: IMAGE_TYPES,
  video: new Set(['video/mp4']),
  // MP3, M4A/AAC, OGG (Vorbis or Opus), WAV
  audio: new Set(['audio/mpeg', 'audio/mp4', 'audio/x-m4a', 'audio/aac', 'audio/ogg', 'audio/ogg; codecs=opus', 'audio/wav']),
  sticker: new Set(['image/webp']),
};

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
  return ACCEPTED[kind].has(mime) ? { mimetype: mime, detected: mime } : { detected: type.mime };
}
