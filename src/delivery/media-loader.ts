import type { Config } from '../config.js';
import type { MediaPayload } from '../whatsapp/driver.js';
import { fetchMedia } from './media/index.js';
import type { MediaLoader } from './message-dispatcher.js';

/** The media fetcher with the operator's limits applied; every driver gets media through it. */
export function createMediaLoader(config: Config): MediaLoader {
  return async (url: string, kind: 'image' | 'document'): Promise<MediaPayload> => {
    const media = await fetchMedia(url, {
      kind,
      allowPrivate: config.allowPrivateUrls,
      maxBytes: kind === 'image' ? config.media.maxImageBytes : config.media.maxDocumentBytes,
      timeoutMs: config.media.timeoutMs,
    });
    return { bytes: media.bytes, mimetype: media.mimetype, fileName: media.fileName };
  };
}
