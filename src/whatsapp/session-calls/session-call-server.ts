import type { Logger } from 'pino';
import { AppError, coerceError } from '../../core/errors.js';
import { runOnDriver, SESSION_CALL_NAMES, type SessionCallName } from '../../core/session-calls.js';
import type { WhatsAppDriver } from '../../core/driver-port.js';
import type { Store } from '../../store/store.js';
import { answerChannel, callChannel, encodeAnswer } from './call-answer.js';

const SWEEP_MS = 3_000;
/** Rows whose caller gave up long ago (it died before deleting them) are removed after this. */
const STALE_MS = 60_000;

/**
 * The holder's side of forwarded session calls: woken on its channel, it claims the call's row
 * (once: a second wake or a sweep finds it claimed), runs the call on its own driver, and writes
 * the answer, announced on the caller's channel. A sweep every few seconds picks up calls whose
 * notification was lost and removes rows nobody will read.
 */
export class SessionCallServer {
  private stopListening: (() => void) | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly store: Store,
    private readonly driver: WhatsAppDriver,
    private readonly processId: string,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    if (this.stopListening) return;
    this.stopListening = await this.store.signals.listen(callChannel(this.processId), (id) => this.track(this.handle(id)));
    this.sweeper = setInterval(() => this.track(this.sweep()), SWEEP_MS);
    this.sweeper.unref();
    this.track(this.sweep());
  }

  async stop(): Promise<void> {
    this.stopListening?.();
    this.stopListening = undefined;
    if (this.sweeper) clearInterval(this.sweeper);
    await Promise.allSettled([...this.running]);
  }

  private track(work: Promise<void>): void {
    this.running.add(work);
    void work.finally(() => this.running.delete(work));
  }

  private async sweep(): Promise<void> {
    try {
      const now = Date.now();
      const waiting = await this.store.db
        .selectFrom('session_calls')
        .select('id')
        .where('holder', '=', this.processId)
        .where('claimed_at', 'is', null)
        .where('deadline', '>', now)
        .execute();
      for (const { id } of waiting) this.track(this.handle(id));
      await this.store.write((tx) => tx.deleteFrom('session_calls').where('deadline', '<', now - STALE_MS).execute());
    } catch (error) {
      this.log.warn({ err: coerceError(error) }, 'forwarded session calls: sweep failed');
    }
  }

  private async handle(id: string): Promise<void> {
    try {
      const now = Date.now();
      const row = await this.store.write((tx) =>
        tx
          .updateTable('session_calls')
          .set({ claimed_at: now })
          .where('id', '=', id)
          .where('holder', '=', this.processId)
          .where('claimed_at', 'is', null)
          .where('deadline', '>', now)
          .returning(['account_id', 'call', 'args', 'caller'])
          .executeTakeFirst(),
      );
      if (!row) return;
      let answer: string;
      try {
        if (!SESSION_CALL_NAMES.includes(row.call as SessionCallName)) throw new Error(`unknown session call ${row.call}`);
        const value = await runOnDriver(this.driver, row.call as SessionCallName, row.account_id, JSON.parse(row.args) as unknown[]);
        answer = encodeAnswer({ value });
      } catch (error) {
        if (!(error instanceof AppError)) this.log.error({ err: coerceError(error), accountId: row.account_id, call: row.call }, 'a forwarded session call failed');
        answer = encodeAnswer({ error });
      }
      await this.store.write(async (tx) => {
        await tx.updateTable('session_calls').set({ answer, answered_at: Date.now() }).where('id', '=', id).execute();
        await this.store.signals.notify(tx, answerChannel(row.caller), id);
      });
    } catch (error) {
      this.log.warn({ err: coerceError(error), id }, 'forwarded session calls: could not answer a call');
    }
  }
}
