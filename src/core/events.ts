import type { Tx } from '../store/store.js';

/** The events of SPEC §5, as the gateway raises them (the webhook payload adds `timestamp`). */
export type GatewayEvent =
  | {
      event: 'message.received';
      message: {
        id: string;
        from: string;
        pushName: string | null;
        type: string;
        text: string | null;
        isGroup: boolean;
        groupId: string | null;
        participant: string | null;
        timestamp: string;
      };
      test?: boolean;
    }
  | { event: 'message.sent'; message: { id: string; recipient: string; type: string; status: 'sent' } }
  | { event: 'message.failed'; message: { id: string; recipient: string; type: string; status: 'failed'; error: string } }
  | { event: 'session.disconnected'; phone: string | null; reason: 'logged_out' | 'connection_lost' };

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
