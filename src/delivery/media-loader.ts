import type { Config } from '../config.js';
import type { MediaPayload } from '../core/driver-port.js';
import type { MediaMessageKind } from '../core/message-content.js';
import { fetchMedia, MediaError } from './media/index.js';
import type { MediaLoader } from './message-dispatcher.js';

/** WhatsApp plays a voice note only as OGG/Opus, and no converter is configured. */
export const VOICE_MIMETYPE = 'audio/ogg; codecs=opus';

function capFor(config: Config, kind: MediaMessageKind): number {
  const caps: Record<MediaMessageKind, number> = {
    image: config.media.maxImageBytes,
    document: config.media.maxDocumentBytes,
    video: config.media.maxVideoBytes,
    audio: config.media.maxAudioBytes,
    sticker: config.media.maxStickerBytes,
  };
  return caps[kind];
}

/** The media fetcher with the operator's limits applied; every driver gets media through it. */
export function createMediaLoader(config: Config): MediaLoader {
  return async (url, kind, options = {}): Promise<MediaPayload> => {
    const media = await fetchMedia(url, {
      kind,
      allowPrivate: config.allowPrivateUrls,
      maxBytes: capFor(config, kind),
      timeoutMs: config.media.timeoutMs,
    });
    if (options.voice && media.mimetype !== VOICE_MIMETYPE) {
      throw new MediaError(
        'wrong_type',
        `The audio is ${media.mimetype}, but a voice note must be OGG/Opus (no audio converter is configured): convert it to OGG/Opus, or send it with voice: false as an audio file.`,
      );
    }
    return { bytes: media.bytes, mimetype: media.mimetype, fileName: media.fileName };
  };
}
