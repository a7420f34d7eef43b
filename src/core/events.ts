import type { Tx } from '../store/store.js';

/** A received file as an event shows it (SPEC §11); `base64` only when the account inlines files this small. */
export interface MediaRef {
  id: string;
  mimetype: string;
  size: number;
  sha256: string;
  fileName: string | null;
  url: string;
  urlExpiresAt: string;
  base64?: string;
}

/** Who did something, as every inbound event names them. */
export interface SenderFields {
  from: string;
  fromLid: string | null;
  pushName: string | null;
  isGroup: boolean;
  groupId: string | null;
  participant: string | null;
}

export interface ReceivedMessage extends Partial<SenderFields> {
  id: string;
  from: string;
  pushName: string | null;
  type: string;
  text: string | null;
  isGroup: boolean;
  groupId: string | null;
  participant: string | null;
  timestamp: string;
  /** The message's id in the account's log (for replyTo and reactions); absent on a test event. */
  messageId?: string;
  caption?: string | null;
  fileName?: string | null;
  durationSeconds?: number | null;
  voice?: boolean;
  gif?: boolean;
  media?: MediaRef | null;
  mediaError?: string;
  location?: { latitude: number; longitude: number; name?: string; address?: string };
  contacts?: Array<{ name: string; phones: string[]; email?: string; organization?: string }>;
  poll?: { question: string; options: string[]; multipleAnswers: boolean };
  quoted?: { id: string; messageId: string | null; type: string | null; text: string | null } | null;
  mentions?: string[];
}

export interface ReceiptMessage {
  id: string;
  recipient: string;
  type: string;
  status: 'delivered' | 'read' | 'played';
  timestamp: string;
}

/** The events of SPEC §5 and §11, as the gateway raises them (the webhook payload adds `timestamp`). */
export type GatewayEvent =
  | { event: 'message.received'; message: ReceivedMessage; test?: boolean }
  | { event: 'message.sent'; message: { id: string; recipient: string; type: string; status: 'sent' } }
  | { event: 'message.failed'; message: { id: string; recipient: string; type: string; status: 'failed'; error: string } }
  | { event: 'session.disconnected'; phone: string | null; reason: 'logged_out' | 'connection_lost' }
  /** Opt-in events (SPEC §11): WhatsApp restricted the number from starting new chats, or lifted it. */
  | { event: 'account.restricted'; restriction: { type: 'reachout_timelock'; until: string | null } }
  | { event: 'account.restriction_lifted'; restriction: { type: 'reachout_timelock' } }
  | { event: 'message.delivered' | 'message.read' | 'message.played'; message: ReceiptMessage }
  | { event: 'message.reaction'; reaction: SenderFields & { id: string; messageId: string | null; emoji: string; removed: boolean; timestamp: string } }
  | { event: 'message.edited'; message: SenderFields & { id: string; messageId: string | null; text: string | null; timestamp: string } }
  | { event: 'message.revoked'; message: SenderFields & { id: string; messageId: string | null; timestamp: string } }
  | { event: 'poll.vote'; vote: SenderFields & { pollId: string; messageId: string; question: string; selectedOptions: string[]; timestamp: string } };

/** The inbound media an event refers to (kept while a delivery of the event is pending). */
export function mediaOf(event: GatewayEvent): string | null {
  return event.event === 'message.received' ? (event.message.media?.id ?? null) : null;
}

/**
 * Where events go. It is called inside the transaction of the change that caused the event, so an
 * implementation that writes outbox rows with `tx` commits them together with that change. It may
 * run more than once for one change (group commit re-runs a batch): anything it does outside the
 * database goes through afterCommit (src/store/after-commit.ts).
 */
export interface EventRecorder {
  record(tx: Tx, accountId: string, event: GatewayEvent, now: number): Promise<void>;
  /** Several events of one account at once (a dispatcher batch); optional, for recorders that can do it cheaper. */
  recordAll?(tx: Tx, accountId: string, events: GatewayEvent[], now: number): Promise<void>;
}

export async function recordEvents(recorder: EventRecorder, tx: Tx, accountId: string, events: GatewayEvent[], now: number): Promise<void> {
  if (recorder.recordAll) return recorder.recordAll(tx, accountId, events, now);
  for (const event of events) await recorder.record(tx, accountId, event, now);
}
