import type { AnyMessageContent } from 'baileys';
import type { MessageKind, MessageReference } from '../../core/message-content.js';
import { referenceKey } from './build-context.js';

/** An edit: a protocol message (MESSAGE_EDIT) for the target's key carrying the new text. */
export function editContent(target: MessageReference, text: string): AnyMessageContent {
  return { text, edit: referenceKey(target) };
}

/** A delete for everyone: a protocol message (REVOKE) for the target's key. */
export function revokeContent(target: MessageReference): AnyMessageContent {
  return { delete: referenceKey(target) };
}

/** The stanza attribute WhatsApp's apps put on edits ("1") and sender revokes ("7"), as Baileys' sendMessage does. */
export function protocolAttributes(kind: MessageKind): { edit: string } | undefined {
  if (kind === 'edit') return { edit: '1' };
  if (kind === 'revoke') return { edit: '7' };
  return undefined;
}
