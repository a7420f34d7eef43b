import type { MessageContent, MessageKind } from './message-content.js';
import type { RestrictionsReport } from './restrictions/restrictions.js';

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
  /** The fencing token of the session lease this send goes out under (several processes, issue 18). */
  leaseToken?: number;
}

export type SendOutcome =
  | { status: 'sent'; at: number }
  /** `code`: a stable reason a client program can act on (`expired`, `reachout_restricted`), stored with the message. */
  | { status: 'failed'; error: string; code?: string }
  /** Not now (not connected, paced, or a transient error): try again at `at`. */
  | { status: 'retry'; at: number; error: string; countsAsAttempt: boolean };

/** Who wrote a received message or change: `from` is the phone number when known, else the LID. */
export interface IncomingSender {
  from: string;
  /** The sender's LID (`…@lid`) when WhatsApp named one; null when it named the number only. */
  fromLid?: string | null;
  pushName: string | null;
  groupId: string | null;
  /** In a group, who wrote it (as `from`); null in a direct chat. */
  participant: string | null;
}

/** The kinds a received message may have (SPEC §11). */
export type IncomingKind = 'text' | 'image' | 'video' | 'audio' | 'document' | 'sticker' | 'location' | 'contact' | 'poll';

export interface IncomingMedia {
  /** The decrypted bytes, already downloaded by the driver (nothing is fetched later by URL). */
  bytes: Buffer;
  mimetype: string;
  fileName?: string | null;
}

export interface IncomingMessage extends IncomingSender {
  waMessageId: string;
  type: IncomingKind | string;
  /** The text, or a media message's caption. */
  text: string | null;
  at: number;
  /** Present for media kinds; `null` when the driver could not get the file (too large, expired for good). */
  media?: IncomingMedia | null;
  /** Why `media` is null (a sentence). */
  mediaError?: string;
  /** A media message's declared file name (documents). */
  fileName?: string | null;
  /** Audio and video length in seconds, when WhatsApp said. */
  durationSeconds?: number | null;
  voice?: boolean;
  gif?: boolean;
  location?: { latitude: number; longitude: number; name?: string; address?: string };
  contacts?: Array<{ name: string; phones: string[]; email?: string; organization?: string }>;
  poll?: { question: string; options: string[]; multipleAnswers: boolean };
  /** The WhatsApp id of the message this one replies to, and what the driver knows of it. */
  quoted?: { waMessageId: string; participant?: string | null; type?: string; text?: string | null } | null;
  /** Phone numbers (digits) mentioned. */
  mentions?: string[];
}

/** Something done to an earlier message: a reaction, an edit, a delete for everyone, a vote on a poll. */
export type IncomingChange =
  | ({ kind: 'reaction'; targetWaMessageId: string; emoji: string; at: number } & IncomingSender)
  | ({ kind: 'edit'; targetWaMessageId: string; text: string; at: number } & IncomingSender)
  | ({ kind: 'revoke'; targetWaMessageId: string; at: number } & IncomingSender)
  /** A vote on one of the account's polls; `selectedOptions` are the option names (none: the vote was withdrawn). */
  | ({ kind: 'poll_vote'; pollWaMessageId: string; selectedOptions: string[]; at: number } & IncomingSender);

export type ReceiptKind = 'delivered' | 'read' | 'played';

export type PresenceState = 'composing' | 'recording' | 'paused';

export interface Group {
  id: string;
  name: string;
  participants: number;
}

/** What a driver tells the gateway; the gateway persists it and raises the events. */
export interface DriverEvents {
  sessionChanged(accountId: string, view: SessionView): Promise<void>;
  /** Answers the received message's id in the account's log. */
  incoming(accountId: string, message: IncomingMessage): Promise<string>;
  incomingChange(accountId: string, change: IncomingChange): Promise<void>;
  receipt(accountId: string, waMessageId: string, kind: ReceiptKind, at: number): Promise<void>;
  /** WhatsApp told of the number's limits (on connect, or in a notification). */
  restrictionsChanged?(accountId: string, report: RestrictionsReport): Promise<void>;
  /** WhatsApp named the phone number behind LIDs (`lid` is `<digits>@lid`, `phone` digits). */
  lidsLearned?(accountId: string, pairs: Array<{ lid: string; phone: string }>): Promise<void>;
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
  /** Marks received messages read, sending read receipts (core picks them from the inbox). */
  markRead(accountId: string, chat: string, targets: ReadTarget[]): Promise<void>;
  /**
   * Accounts whose sessions another process holds (several processes sharing PostgreSQL): their
   * messages are left to that process rather than claimed here only to wait. Absent: any account.
   */
  accountsServedElsewhere?(): Promise<string[]>;
  /**
   * The other process that holds the account's session now (its lease owner), so calls needing
   * the socket go there; null when this process holds it or none does. Absent: always this process.
   */
  sessionHolder?(accountId: string): Promise<string | null>;
}

/** A received message to mark read: WhatsApp's id, and in a group who wrote it (WhatsApp needs both). */
export interface ReadTarget {
  waMessageId: string;
  participant: string | null;
}
