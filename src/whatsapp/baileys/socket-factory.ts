import makeWASocket, {
  Browsers,
  makeCacheableSignalKeyStore,
  proto,
  type AuthenticationState,
  type BaileysEventMap,
  type BinaryNode,
  type GroupMetadata,
  type WAMediaUploadFunction,
  type WAMessage,
  type WAMessageKey,
  type WAVersion,
} from 'baileys';
import type { Logger } from 'pino';

/**
 * The part of a Baileys socket the driver uses. The real one comes from `makeWASocket`; tests
 * hand in a fake that emits Baileys-shaped events, so the session's state machine runs without
 * a network.
 */
export interface SocketLike {
  ev: { on<E extends keyof BaileysEventMap>(event: E, listener: (arg: BaileysEventMap[E]) => void): void };
  end(error: Error | undefined): void | Promise<void>;
  logout(msg?: string): Promise<void>;
  requestPairingCode(phoneNumber: string): Promise<string>;
  relayMessage(jid: string, message: proto.IMessage, options: { messageId: string; additionalAttributes?: Record<string, string>; additionalNodes?: BinaryNode[] }): Promise<string>;
  onWhatsApp(...phoneNumbers: string[]): Promise<Array<{ jid: string; exists: boolean }> | undefined>;
  groupFetchAllParticipating(): Promise<{ [id: string]: GroupMetadata }>;
  waUploadToServer: WAMediaUploadFunction;
  sendPresenceUpdate?(type: 'composing' | 'recording' | 'paused', toJid?: string): Promise<void>;
  readMessages?(keys: WAMessageKey[]): Promise<void>;
  signalRepository: { lidMapping: { getPNForLID(lid: string): Promise<string | null> } };
  /** The linked account's own ids (a poll's creator, when a vote is decrypted). */
  user?: { id: string; lid?: string } | undefined;
  /** Asks the phone to upload a received file again when WhatsApp's copy has expired. */
  updateMediaMessage?(message: WAMessage): Promise<WAMessage>;
  /** Fetches the media connection (hosts) if the socket has none: where a re-uploaded file is found. */
  refreshMediaConn?(forceGet?: boolean): Promise<unknown>;
  /** The raw stanza stream: the server's `ack` of each message we send arrives here. */
  ws: { on(event: string, listener: (node: BinaryNode) => void): unknown; off(event: string, listener: (node: BinaryNode) => void): unknown };
}

export interface SocketOptions {
  accountId: string;
  auth: AuthenticationState;
  getMessage: (key: WAMessageKey) => Promise<proto.IMessage | undefined>;
}

export type SocketFactory = (options: SocketOptions) => SocketLike;

export interface BaileysSocketSettings {
  /** The WhatsApp Web version, pinned: start-up never depends on fetching it. */
  version: WAVersion;
  markOnlineOnConnect: boolean;
  syncFullHistory: boolean;
  connectTimeoutMs: number;
  qrTimeoutMs?: number;
  /** Set only by tests (a local WhatsApp Web test server). */
  webSocketUrl?: string;
  logger: Logger;
}

/** History kinds never processed: the full archive and on-demand history (a gateway needs neither). */
const SKIPPED_HISTORY = new Set<proto.HistorySync.HistorySyncType>([proto.HistorySync.HistorySyncType.FULL, proto.HistorySync.HistorySyncType.ON_DEMAND]);

/** The real socket factory: one `makeWASocket` per call, with the gateway's settings. */
export function baileysSocketFactory(settings: BaileysSocketSettings): SocketFactory {
  return ({ accountId, auth, getMessage }) => {
    const logger = settings.logger.child({ accountId });
    return makeWASocket({
      auth: { creds: auth.creds, keys: makeCacheableSignalKeyStore(auth.keys, logger) },
      version: settings.version,
      browser: Browsers.ubuntu('MessageAPI'),
      logger,
      markOnlineOnConnect: settings.markOnlineOnConnect,
      syncFullHistory: settings.syncFullHistory,
      // Initial bootstrap and recent history still flow (they carry the LID mappings Baileys needs),
      // but their messages are not raised as incoming.
      shouldSyncHistoryMessage: ({ syncType }) => settings.syncFullHistory || !SKIPPED_HISTORY.has(syncType as proto.HistorySync.HistorySyncType),
      emitOwnEvents: false,
      connectTimeoutMs: settings.connectTimeoutMs,
      ...(settings.qrTimeoutMs ? { qrTimeout: settings.qrTimeoutMs } : {}),
      getMessage,
      ...(settings.webSocketUrl ? { waWebSocketUrl: settings.webSocketUrl } : {}),
    }) satisfies SocketLike;
  };
}
