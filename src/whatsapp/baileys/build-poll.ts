import type { AnyMessageContent } from 'baileys';
import type { PollContent } from '../../core/message-content.js';

/**
 * A poll under the secret fixed when it was accepted (votes are encrypted with it, and a retry
 * re-sends the same poll). Single-choice polls go as WhatsApp's current version (V3).
 */
export function pollContent(poll: PollContent): AnyMessageContent {
  return {
    poll: {
      name: poll.question,
      values: poll.options,
      selectableCount: poll.multipleAnswers ? 0 : 1,
      messageSecret: Buffer.from(poll.secret, 'base64'),
    },
  };
}
