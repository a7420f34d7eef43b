import type { AnyMessageContent } from 'baileys';
import type { MediaPayload } from '../driver.js';
import { oggOpusSeconds } from './ogg-duration.js';

/**
 * An audio file, or a voice note (`ptt`). A voice note is OGG/Opus (the media loader refused any
 * other), sent as `audio/ogg; codecs=opus` with its duration, as WhatsApp's apps send them.
 */
export function audioContent(media: MediaPayload, voice: boolean): AnyMessageContent {
  if (voice) return { audio: media.bytes, mimetype: 'audio/ogg; codecs=opus', ptt: true, seconds: oggOpusSeconds(media.bytes) };
  const seconds = media.mimetype.startsWith('audio/ogg') ? oggOpusSeconds(media.bytes) : undefined;
  return { audio: media.bytes, mimetype: media.mimetype, ptt: false, seconds };
}
