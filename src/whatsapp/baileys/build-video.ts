import type { AnyMessageContent } from 'baileys';
import type { MediaPayload } from '../driver.js';

/** An MP4 video; `gif` sets `gifPlayback`, which WhatsApp plays looping and muted, as its own GIFs. */
export function videoContent(media: MediaPayload, caption: string | undefined, gif: boolean): AnyMessageContent {
  return { video: media.bytes, mimetype: media.mimetype, caption, gifPlayback: gif || undefined };
}
