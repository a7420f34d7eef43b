import type { Logger } from 'pino';
import { coerceError } from '../../core/errors.js';
import { STORED_TEXT_LIMITS, storableText } from '../../core/storable-text.js';
import type { Store } from '../../store/store.js';
import type { DriverEvents, IncomingMessage } from '../driver.js';
import { receiptsFromUpdates, receiptsFromUserReceipts, toIncoming, type Receipt } from './event-mapping.js';
import type { SocketLike } from './socket-factory.js';

const SEEN_KEEP_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * What a session's socket reports — incoming messages and receipts of ours — handed to the
 * gateway in order, one at a time per session. Incoming messages are raised once per WhatsApp id,
 * across restarts (the ids raised are kept for a week).
 */
export class IncomingEvents {
  private readonly chains = new Map<string, Promise<void>>();

  constructor(
    private readonly store: Store,
    private readonly events: DriverEvents,
    private readonly log: Logger,
    private readonly clock: () => number,
  ) {}

  attach(accountId: string, socket: SocketLike): void {
    const resolveLid = (lid: string) => socket.signalRepository.lidMapping.getPNForLID(lid);
    socket.ev.on('messages.upsert', ({ messages, type }) => {
      if (type !== 'notify') return; // `append` is history and our own echoes
      this.enqueue(accountId, async () => {
        for (const msg of messages) {
          const incoming = await toIncoming(msg, resolveLid, this.clock());
          if (incoming) await this.raiseOnce(accountId, incoming);
        }
      });
    });
    socket.ev.on('messages.update', (updates) => this.enqueue(accountId, () => this.raiseReceipts(accountId, receiptsFromUpdates(updates, this.clock()))));
    socket.ev.on('message-receipt.update', (updates) => this.enqueue(accountId, () => this.raiseReceipts(accountId, receiptsFromUserReceipts(updates, this.clock()))));
  }

  /** Waits for everything already reported. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.chains.values()]);
  }

  /** Forgets ids older than a week (WhatsApp does not redeliver that late). */
  async prune(): Promise<void> {
    await this.store.write((tx) => tx.deleteFrom('wa_incoming_seen').where('at', '<', this.clock() - SEEN_KEEP_MS).execute());
  }

  private enqueue(accountId: string, work: () => Promise<void>): void {
    const previous = this.chains.get(accountId) ?? Promise.resolve();
    const next = previous.then(work).catch((error) => this.log.error({ err: coerceError(error), accountId }, 'could not record an incoming WhatsApp event'));
    this.chains.set(accountId, next);
    void next.finally(() => {
      if (this.chains.get(accountId) === next) this.chains.delete(accountId);
    });
  }

  /** At least once: the id is remembered after the event is recorded, so a crash in between repeats it. */
  private async raiseOnce(accountId: string, received: IncomingMessage): Promise<void> {
    // The id is the sender's to choose: a NUL in it must not fail the look-up on PostgreSQL.
    const incoming = { ...received, waMessageId: storableText(received.waMessageId, STORED_TEXT_LIMITS.name) };
    const seen = await this.store.db
      .selectFrom('wa_incoming_seen')
      .select('wa_message_id')
      .where('account_id', '=', accountId)
      .where('wa_message_id', '=', incoming.waMessageId)
      .executeTakeFirst();
    if (seen) return;
    await this.events.incoming(accountId, incoming);
    await this.store.write((tx) =>
      tx
        .insertInto('wa_incoming_seen')
        .values({ account_id: accountId, wa_message_id: incoming.waMessageId, at: this.clock() })
        .onConflict((oc) => oc.columns(['account_id', 'wa_message_id']).doNothing())
        .execute(),
    );
  }

  private async raiseReceipts(accountId: string, receipts: Receipt[]): Promise<void> {
    for (const r of receipts) await this.events.receipt(accountId, storableText(r.waMessageId, STORED_TEXT_LIMITS.name), r.kind, r.at);
  }
}
