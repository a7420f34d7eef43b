import type { Logger } from 'pino';
import { coerceError } from '../../core/errors.js';
import { STORED_TEXT_LIMITS, storableText } from '../../core/storable-text.js';
import type { Store } from '../../store/store.js';
import { normalizeMessageContent, type WAMessage } from 'baileys';
import type { DriverEvents, IncomingChange, IncomingMessage } from '../driver.js';
import { receiptsFromUpdates, receiptsFromUserReceipts, toIncoming, type Receipt } from './event-mapping.js';
import { toIncomingChange } from './incoming-change-mapping.js';
import { mediaOf } from './incoming-content.js';
import { downloadReceivedFile } from './media-download.js';
import { pairsFromContacts, pairsFromMappings, type LidPair } from './lid-events.js';
import { decryptVote } from './poll-votes.js';
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
    private readonly maxMediaBytes: number = 100 * 1024 * 1024,
  ) {}

  attach(accountId: string, socket: SocketLike): void {
    const resolveLid = (lid: string) => socket.signalRepository.lidMapping.getPNForLID(lid);
    socket.ev.on('messages.upsert', ({ messages, type }) => {
      if (type !== 'notify') return; // `append` is history and our own echoes
      this.enqueue(accountId, async () => {
        for (const msg of messages) {
          const incoming = await toIncoming(msg, resolveLid, this.clock());
          if (incoming) {
            await this.raiseOnce(accountId, incoming.waMessageId, () => this.withMedia(socket, msg, incoming).then((m) => this.events.incoming(accountId, m)));
            continue;
          }
          const mapped = await toIncomingChange(msg, resolveLid, this.clock());
          if (!mapped || !msg.key.id) continue;
          await this.raiseOnce(accountId, msg.key.id, async () => {
            let change: IncomingChange = 'vote' in mapped ? { ...mapped.change, selectedOptions: [] } : mapped.change;
            if ('vote' in mapped) {
              // Baileys cleans a direct message's missing participant to '' (not undefined): `||`, not `??`.
              const voter = msg.key.participant || msg.key.remoteJid || '';
              const selected = await decryptVote(this.store, accountId, { ...mapped.vote, ownJid: socket.user?.id, voterJid: voter });
              if (selected === null) return;
              change = { ...mapped.change, selectedOptions: selected };
            }
            await this.events.incomingChange(accountId, change);
          });
        }
      });
    });
    const learn = (pairs: LidPair[]) => {
      if (pairs.length > 0 && this.events.lidsLearned) this.enqueue(accountId, () => this.events.lidsLearned!(accountId, pairs));
    };
    socket.ev.on('lid-mapping.update', (update) => learn(pairsFromMappings(update)));
    socket.ev.on('contacts.upsert', (contacts) => learn(pairsFromContacts(contacts)));
    socket.ev.on('contacts.update', (contacts) => learn(pairsFromContacts(contacts)));
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
  private async raiseOnce(accountId: string, rawId: string, raise: () => Promise<unknown>): Promise<void> {
    // The id is the sender's to choose: a NUL in it must not fail the look-up on PostgreSQL.
    const waMessageId = storableText(rawId, STORED_TEXT_LIMITS.name);
    const seen = await this.store.db
      .selectFrom('wa_incoming_seen')
      .select('wa_message_id')
      .where('account_id', '=', accountId)
      .where('wa_message_id', '=', waMessageId)
      .executeTakeFirst();
    if (seen) return;
    await raise();
    await this.store.write((tx) =>
      tx
        .insertInto('wa_incoming_seen')
        .values({ account_id: accountId, wa_message_id: waMessageId, at: this.clock() })
        .onConflict((oc) => oc.columns(['account_id', 'wa_message_id']).doNothing())
        .execute(),
    );
  }

  /**
   * Downloads and decrypts a received file as it arrives (through Baileys, asking the phone to
   * upload it again when WhatsApp's copy has expired), unless WhatsApp declares it larger than the
   * cap. A file that cannot be had leaves `media: null` and the reason.
   */
  private async withMedia(socket: SocketLike, msg: WAMessage, incoming: IncomingMessage): Promise<IncomingMessage> {
    const message: IncomingMessage = { ...incoming, waMessageId: storableText(incoming.waMessageId, STORED_TEXT_LIMITS.name) };
    const content = normalizeMessageContent(msg.message);
    const found = content ? mediaOf(content) : null;
    if (!found) return message;
    if (found.declaredBytes !== null && found.declaredBytes > this.maxMediaBytes) {
      return { ...message, media: null, mediaError: `The file is ${found.declaredBytes} bytes, above this server's limit of ${this.maxMediaBytes} bytes (INBOUND_MEDIA_MAX_BYTES), so it was not downloaded.` };
    }
    try {
      const bytes = await downloadReceivedFile(socket, msg);
      const mimetype = found.media.mimetype ?? 'application/octet-stream';
      return { ...message, media: { bytes, mimetype, fileName: message.fileName ?? null } };
    } catch (error) {
      this.log.warn({ err: coerceError(error), waMessageId: message.waMessageId }, 'could not download a received file');
      return { ...message, media: null, mediaError: 'The file could not be downloaded from WhatsApp.' };
    }
  }

  private async raiseReceipts(accountId: string, receipts: Receipt[]): Promise<void> {
    for (const r of receipts) await this.events.receipt(accountId, storableText(r.waMessageId, STORED_TEXT_LIMITS.name), r.kind, r.at);
  }
}
