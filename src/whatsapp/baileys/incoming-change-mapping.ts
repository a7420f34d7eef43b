import { normalizeMessageContent, proto, type WAMessage } from 'baileys';
import type { IncomingChange } from '../driver.js';
import { isPersonOrGroupChat, senderOf, timeOf, type LidResolver } from './event-mapping.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A vote as it arrives: encrypted with the poll's secret, which only the poll's log row holds. */
export interface EncryptedVote {
  pollWaMessageId: string;
  vote: proto.Message.IPollEncValue;
}

export type MappedChange = { change: IncomingChange } | { vote: EncryptedVote; change: DistributiveOmit<Extract<IncomingChange, { kind: 'poll_vote' }>, 'selectedOptions'> };

const ProtocolType = proto.Message.ProtocolMessage.Type;

/**
 * A reaction, an edit, a delete for everyone or a poll vote someone else sent, or null when the
 * message is none of these (or is our own echo).
 */
export async function toIncomingChange(msg: WAMessage, resolveLid: LidResolver, now: number): Promise<MappedChange | null> {
  const key = msg.key;
  if (!key.id || key.fromMe || !isPersonOrGroupChat(key.remoteJid)) return null;
  const content = normalizeMessageContent(msg.message);
  if (!content) return null;
  const reaction = content.reactionMessage;
  const protocol = content.protocolMessage;
  const pollUpdate = content.pollUpdateMessage;
  if (!reaction && !pollUpdate && !(protocol && (protocol.type === ProtocolType.REVOKE || protocol.type === ProtocolType.MESSAGE_EDIT))) return null;
  const sender = await senderOf(msg, resolveLid);
  if (!sender) return null;
  const at = timeOf(msg, now);
  if (reaction?.key?.id) return { change: { kind: 'reaction', targetWaMessageId: reaction.key.id, emoji: reaction.text ?? '', at, ...sender } };
  if (protocol?.key?.id && protocol.type === ProtocolType.REVOKE) return { change: { kind: 'revoke', targetWaMessageId: protocol.key.id, at, ...sender } };
  if (protocol?.key?.id && protocol.type === ProtocolType.MESSAGE_EDIT) {
    const edited = normalizeMessageContent(protocol.editedMessage);
    const text = edited?.conversation ?? edited?.extendedTextMessage?.text ?? edited?.imageMessage?.caption ?? edited?.videoMessage?.caption ?? edited?.documentMessage?.caption ?? '';
    return { change: { kind: 'edit', targetWaMessageId: protocol.key.id, text, at, ...sender } };
  }
  const pollId = pollUpdate?.pollCreationMessageKey?.id;
  if (pollUpdate?.vote && pollId) return { vote: { pollWaMessageId: pollId, vote: pollUpdate.vote }, change: { kind: 'poll_vote', pollWaMessageId: pollId, at, ...sender } };
  return null;
}
