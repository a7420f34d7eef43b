import type { AnyMessageContent } from 'baileys';
import type { MediaPayload } from '../driver.js';

/** A WebP is animated when its extended header (VP8X) has the animation flag. */
export function isAnimatedWebp(bytes: Buffer): boolean {
  return bytes.subarray(12, 16).toString('latin1') === 'VP8X' && (bytes[20]! & 0x02) !== 0;
}

export function stickerContent(media: MediaPayload): AnyMessageContent {
  return { sticker: media.bytes, mimetype: 'image/webp', isAnimated: isAnimatedWebp(media.bytes) };
}
