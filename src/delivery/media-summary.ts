import { createHash } from 'node:crypto';
import type { MediaPayload } from '../core/driver-port.js';
import type { MediaSummary, MessageContent } from '../core/message-content.js';
import type { Tx } from '../store/store.js';

export function summariseMedia(media: MediaPayload): MediaSummary {
  return { mimetype: media.mimetype, size: media.bytes.length, sha256: createHash('sha256').update(media.bytes).digest('hex') };
}

export async function recordMediaSummary(tx: Tx, messageId: string, content: MessageContent): Promise<void> {
  await tx.updateTable('messages').set({ content: JSON.stringify(content) }).where('id', '=', messageId).execute();
}
