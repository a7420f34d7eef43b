import type { Store } from '../store/store.js';
import type { IncomingMessage } from '../whatsapp/driver.js';
import type { EventRecorder } from './events.js';

/** A message someone sent to the linked number becomes a `message.received` event (SPEC §5). */
export async function recordIncoming(store: Store, events: EventRecorder, accountId: string, message: IncomingMessage, now: number): Promise<void> {
  await store.write((tx) =>
    events.record(
      tx,
      accountId,
      {
        event: 'message.received',
        message: {
          id: message.waMessageId,
          from: message.from,
          pushName: message.pushName,
          type: message.type,
          text: message.text,
          isGroup: message.groupId !== null,
          groupId: message.groupId,
          participant: message.participant,
          timestamp: new Date(message.at).toISOString(),
        },
      },
      now,
    ),
  );
}
