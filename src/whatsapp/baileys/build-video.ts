import type { AnyMessageContent } from 'baileys';
import type { MediaPayload } from '../driver.js';
import { mp4Seconds } from './mp4-duration.js';

/**
 * An MP4 video with its length in seconds (WhatsApp shows it on the bubble; Baileys does not work
 * it out for video); `gif` sets `gifPlayback`, which WhatsApp plays looping and muted, as its own GIFs.
 */
export function videoContent(media: MediaPayload, caption: string | undefined, gif: boolean): AnyMessageContent {
  return { video: media.bytes, mimetype: media.mimetype, caption, gifPlayback: gif || undefined, seconds: mp4Seconds(media.bytes) };
}
