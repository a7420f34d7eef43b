import type { BinaryNode } from 'baileys';

/**
 * What a companion sends that is not a message but reaches the contact's phone: a chat state
 * ("typing…", "recording audio…", stopped) or a receipt for messages the contact sent (read).
 */
export interface CompanionSignal {
  /** `chatstate` or `receipt`. */
  tag: 'chatstate' | 'receipt';
  /** The sending companion device. */
  from: string;
  /** The stanza's `to`: the contact's jid, or a group. */
  to: string;
  /** A chat state: `composing`, `recording` (composing with media="audio") or `paused`. */
  state?: string;
  /** A receipt's type (`read`, `read-self`…; none for a delivery receipt). */
  type?: string;
  /** A receipt's message ids: its `id`, then each `<list><item id/>`. */
  ids?: string[];
  /** A receipt's `participant` (the author of the read messages, in a group). */
  participant?: string;
}

/** The signal a `chatstate` or `receipt` stanza from a companion carries, or undefined for another stanza. */
export function companionSignal(node: BinaryNode, from: string): CompanionSignal | undefined {
  const children = Array.isArray(node.content) ? node.content : [];
  if (node.tag === 'chatstate') {
    const child = children[0];
    const state = child?.tag === 'composing' && child.attrs.media === 'audio' ? 'recording' : child?.tag;
    return { tag: 'chatstate', from, to: node.attrs.to ?? '', state };
  }
  if (node.tag === 'receipt') {
    const list = children.find((c) => c.tag === 'list');
    const listed = list && Array.isArray(list.content) ? list.content.filter((c) => c.tag === 'item').map((c) => c.attrs.id!) : [];
    return { tag: 'receipt', from, to: node.attrs.to ?? '', type: node.attrs.type, ids: [node.attrs.id!, ...listed], participant: node.attrs.participant };
  }
  return undefined;
}

/** Read receipts reach the sender only when the reader's privacy setting allows it: WhatsApp's default, `all`. */
export function privacySettingsNode(): BinaryNode {
  return { tag: 'privacy', attrs: {}, content: [{ tag: 'category', attrs: { name: 'readreceipts', value: 'all' } }] };
}
