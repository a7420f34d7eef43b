import type { AnyMessageContent } from 'baileys';
import type { MessageReference } from '../../core/message-content.js';
import { referenceKey } from './build-context.js';

/** A reaction to the target's key; an empty emoji removes it. */
export function reactionContent(target: MessageReference, emoji: string, at: number): AnyMessageContent {
  return { react: { key: referenceKey(target), text: emoji, senderTimestampMs: at } };
}
