import { deflateSync } from 'node:zlib';
import { proto } from 'baileys';

const SERVER = 's.whatsapp.net';

/** A message the phone already holds: `from` wrote `text` at `at` (ms). */
export interface OldMessage {
  from: string;
  text: string;
  at: number;
}

/**
 * The phone's initial history sync for a newly linked device of `phone`: a history-sync
 * notification whose bootstrap payload (the chats and their old messages) travels inline,
 * compressed, as WhatsApp's phones send the first chunk.
 */
export function initialHistorySync(phone: string, messages: OldMessage[]): proto.IMessage {
  const byChat = new Map<string, OldMessage[]>();
  for (const m of messages) byChat.set(m.from, [...(byChat.get(m.from) ?? []), m]);
  const history = proto.HistorySync.encode({
    syncType: proto.HistorySync.HistorySyncType.INITIAL_BOOTSTRAP,
    conversations: [...byChat].map(([from, old]) => ({
      id: `${from}@${SERVER}`,
      messages: old.map((m, i) => ({
        message: { key: { remoteJid: `${from}@${SERVER}`, fromMe: false, id: `3AHIST${phone}${from}${i}` }, message: { conversation: m.text }, messageTimestamp: Math.floor(m.at / 1000) },
      })),
    })),
  }).finish();
  return {
    protocolMessage: {
      type: proto.Message.ProtocolMessage.Type.HISTORY_SYNC_NOTIFICATION,
      historySyncNotification: { syncType: proto.Message.HistorySyncType.INITIAL_BOOTSTRAP, chunkOrder: 0, progress: 100, initialHistBootstrapInlinePayload: deflateSync(history) },
    },
  };
}
