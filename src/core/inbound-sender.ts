import type { IncomingSender } from './driver-port.js';
import type { SenderFields } from './events.js';
import { STORED_TEXT_LIMITS, storableText } from './storable-text.js';

/** Who wrote it, as events show it: names from WhatsApp are anyone's, so they are stored only in storable form. */
export function senderFields(sender: IncomingSender): SenderFields {
  return {
    from: storableText(sender.from, 128),
    fromLid: storableText(sender.fromLid ?? null, 128),
    pushName: storableText(sender.pushName, STORED_TEXT_LIMITS.name),
    isGroup: sender.groupId !== null,
    groupId: sender.groupId,
    participant: sender.participant,
  };
}
