import type { Store } from '../store/store.js';
import type { IncomingMessage } from './driver-port.js';
import type { EventRecorder } from './events.js';
import { STORED_TEXT_LIMITS, storableText } from './storable-text.js';

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
          // WhatsApp's text and names are anyone's: stored (in the webhook body) only in storable form.
          pushName: storableText(message.pushName, STORED_TEXT_LIMITS.name),
          type: message.type,
          text: storableText(message.text, STORED_TEXT_LIMITS.text),
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
