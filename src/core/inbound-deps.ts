import type { Config } from '../config.js';
import type { MediaBytes } from '../store/media-bytes.js';
import type { Store } from '../store/store.js';
import type { EventRecorder } from './events.js';
import type { MediaLinks } from './media-links.js';

/** What recording inbound messages needs: the store, the event outbox, where media bytes go and how links are signed. */
export interface InboundDeps {
  store: Store;
  events: EventRecorder;
  media: MediaBytes;
  links: MediaLinks;
  config: Pick<Config, 'inboundMedia' | 'publicUrl' | 'port'>;
}

/** The base of links the gateway hands out without a request: PUBLIC_URL, else the local address. */
export function publicBase(config: Pick<Config, 'publicUrl' | 'port'>): string {
  return config.publicUrl ?? `http://localhost:${config.port}`;
}

export const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * How long a media link in an event works: the retention, and at least two days, so that an event
 * retried for its whole schedule (over 24 h, SPEC §5) still carries a working link when it arrives
 * (the file is kept while its delivery is pending, whatever the retention).
 */
export function linkLifetime(retentionDays: number): number {
  return Math.max(retentionDays, 2) * DAY_MS;
}
