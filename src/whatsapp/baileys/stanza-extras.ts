import type { BinaryNode } from 'baileys';
import type { MessageKind } from '../../core/message-content.js';
import { protocolAttributes } from './build-protocol.js';

/** What the driver hands `relayMessage` beside the message itself. */
export interface StanzaExtras {
  additionalAttributes?: Record<string, string>;
  additionalNodes?: BinaryNode[];
}

/**
 * What WhatsApp's apps put on the message stanza around the encrypted message, as Baileys'
 * `sendMessage` does (we relay messages ourselves, under our own ids, so we add it here): `edit`
 * "1" on an edit and "7" on a sender's delete, and `<meta polltype="creation"/>` on a new poll.
 */
export function stanzaExtras(kind: MessageKind): StanzaExtras {
  const attributes = protocolAttributes(kind);
  if (attributes) return { additionalAttributes: attributes };
  if (kind === 'poll') return { additionalNodes: [{ tag: 'meta', attrs: { polltype: 'creation' } }] };
  return {};
}
