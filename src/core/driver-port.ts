import type { MessageContent, MessageKind } from './message-content.js';

export type SessionState = 'unlinked' | 'linking' | 'connected' | 'reconnecting' | 'disconnected';
export type DisconnectReason = 'logged_out' | 'connection_lost';

export interface SessionView {
  state: SessionState;
  phone: string | null;
  /** Why the session is `disconnected` (or, while `reconnecting`, the last failure). */
  reason: string | null;
  /** The current QR while linking: the raw string WhatsApp rotates. */
  qr: string | null;
  pairingCode: string | null;
  /** A sentence for people: what is happening and what to do. */
  detail: string | null;
}

export interface MediaPayload {
  bytes: Buffer;
  mimetype: string;
  fileName?: string;
}

export interface OutgoingMessage {
  id: string;
  accountId: string;
  /** Digits of a phone number, or a group id `…@g.us`. */
  recipient: string;
  kind: MessageKind;
  text: string | null;
  filename: string | null;
  /** Fixed when the message was accepted, so a retry re-sends the same id. */
  waMessageId: string;
  createdAt: number;
  media?: MediaPayload;
  /** The kind's own fields (location, poll, reaction target, quoted message, mentions…). */
  content?: MessageContent;
}

export type SendOutcome =
  | { status: 'sent'; at: number }
  | { status: 'failed'; error: string }
  /** Not now (not connected, paced, or a transient error): try again at `at`. */
  | { status: 'retry'; at: number; error: string; countsAsAttempt: boolean };

export interface IncomingMessage {
  waMessageId: string;
  from: string;
  pushName: string | null;
  type: string;
  text: string | null;
  groupId: string | null;
  participant: string | null;
  at: number;
}

export type PresenceState = 'composing' | 'recording' | 'paused';

export interface Group {
  id: string;
  name: string;
  participants: number;
}

/** What a driver tells the gateway; the gateway persists it and raises the events. */
export interface DriverEvents {
  sessionChanged(accountId: string, view: SessionView): Promise<void>;
  incoming(accountId: string, message: IncomingMessage): Promise<void>;
  receipt(accountId: string, waMessageId: string, kind: 'delivered' | 'read', at: number): Promise<void>;
}

/**
 * A way to WhatsApp. The gateway's core speaks only this interface: the sandbox simulates the
 * network, the Baileys driver is a real linked device.
 */
export interface WhatsAppDriver {
  readonly name: 'sandbox' | 'baileys';
  /** Connects every linked session this process is responsible for. */
  start(): Promise<void>;
  stop(): Promise<void>;
  session(accountId: string): Promise<SessionView>;
  /** Starts linking and answers with the first QR (or at once, if the driver links instantly). */
  link(accountId: string): Promise<SessionView>;
  pair(accountId: string, phone: string): Promise<SessionView>;
  logout(accountId: string): Promise<void>;
  isConnected(accountId: string): Promise<boolean>;
  /**
   * Puts the message on the network (under its fixed `waMessageId`) and says how that went. The
   * outcome is recorded only after this answers, so a crash in between sends the message again.
   */
  send(message: OutgoingMessage): Promise<SendOutcome>;
  groups(accountId: string): Promise<Group[]>;
  /** Shows (or stops showing) "typing…" / "recording audio…" in a chat. Ephemeral: not queued. */
  sendPresence(accountId: string, chat: string, state: PresenceState): Promise<void>;
  /** Marks received messages (their WhatsApp ids) read, sending read receipts; none given: the whole chat. */
  markRead(accountId: string, chat: string, waMessageIds: string[] | null): Promise<void>;
  /**
   * Accounts whose sessions another process holds (several processes sharing PostgreSQL): their
   * messages are left to that process rather than claimed here only to wait. Absent: any account.
   */
  accountsServedElsewhere?(): Promise<string[]>;
}
