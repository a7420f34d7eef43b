import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { readSession } from '../../core/sessions.js';
import { AppError } from '../../core/errors.js';
import { runOnDriver, type SessionCallName, type SessionCalls } from '../../core/session-calls.js';
import type { Group, PresenceState, ReadTarget, SessionView, WhatsAppDriver } from '../../core/driver-port.js';
import type { Store } from '../../store/store.js';
import { answerChannel, callChannel, decodeAnswer } from './call-answer.js';
import { Wakeup } from './wakeup.js';

export type ForwardOutcome = 'answered' | 'error' | 'timeout';

export interface ForwardingOptions {
  store: Store;
  driver: WhatsAppDriver;
  processId: string;
  log: Logger;
  /** How long a forwarded call waits for the holder's answer. */
  timeoutMs: number;
  /** Link and pair wait for WhatsApp on the holder (WHATSAPP_LINK_TIMEOUT_MS): added to `timeoutMs`. */
  linkTimeoutMs: number;
  /** A lost notification costs at most this: the answer's row is read again this often. */
  recheckMs?: number;
  forwarded?: (call: SessionCallName, outcome: ForwardOutcome) => void;
}

const DEFAULT_RECHECK_MS = 3_000;

/**
 * Session calls on PostgreSQL, where several processes may share the database: a call for a
 * session another live process holds (its lease) is written as a row and announced on that
 * process's channel; the holder runs it (SessionCallServer) and answers in the row, announced on
 * this process's channel. A session nobody else holds is this process's to run, as on SQLite.
 */
export class ForwardedSessionCalls implements SessionCalls {
  private readonly waiting = new Map<string, Wakeup>();
  private stopListening: (() => void) | undefined;

  constructor(private readonly options: ForwardingOptions) {}

  async start(): Promise<void> {
    this.stopListening ??= await this.options.store.signals.listen(answerChannel(this.options.processId), (id) => this.waiting.get(id)?.wake());
  }

  stop(): void {
    this.stopListening?.();
    this.stopListening = undefined;
  }

  async session(accountId: string): Promise<SessionView> {
    // Only a linking session has something the database lacks (the QR, the pairing code).
    const holder = await this.holder(accountId);
    if (holder === null) return this.options.driver.session(accountId);
    const stored = await readSession(this.options.store.db, accountId);
    if (stored?.state !== 'linking') return this.options.driver.session(accountId);
    return (await this.forward(holder, 'session', accountId, [])) as SessionView;
  }

  /** The database knows (the holder records every change), so this is never forwarded. */
  isConnected(accountId: string): Promise<boolean> {
    return this.options.driver.isConnected(accountId);
  }

  async link(accountId: string): Promise<SessionView> {
    return (await this.route('link', accountId, [])) as SessionView;
  }

  async pair(accountId: string, phone: string): Promise<SessionView> {
    return (await this.route('pair', accountId, [phone])) as SessionView;
  }

  async logout(accountId: string): Promise<void> {
    await this.route('logout', accountId, []);
  }

  async groups(accountId: string): Promise<Group[]> {
    return (await this.route('groups', accountId, [])) as Group[];
  }

  async sendPresence(accountId: string, chat: string, state: PresenceState): Promise<void> {
    await this.route('sendPresence', accountId, [chat, state]);
  }

  async markRead(accountId: string, chat: string, targets: ReadTarget[]): Promise<void> {
    await this.route('markRead', accountId, [chat, targets]);
  }

  private async holder(accountId: string): Promise<string | null> {
    const holder = (await this.options.driver.sessionHolder?.(accountId)) ?? null;
    return holder === this.options.processId ? null : holder;
  }

  private async route(call: SessionCallName, accountId: string, args: unknown[]): Promise<unknown> {
    const holder = await this.holder(accountId);
    if (holder === null) return runOnDriver(this.options.driver, call, accountId, args);
    return this.forward(holder, call, accountId, args);
  }

  /** Takes back a call its holder has not started; false once the holder has it. */
  private async withdraw(id: string): Promise<boolean> {
    const result = await this.options.store.write((tx) => tx.deleteFrom('session_calls').where('id', '=', id).where('claimed_at', 'is', null).executeTakeFirst());
    return Number(result.numDeletedRows) > 0;
  }

  private async forward(holder: string, call: SessionCallName, accountId: string, args: unknown[]): Promise<unknown> {
    const { store, processId } = this.options;
    const id = randomUUID();
    const now = Date.now();
    const deadline = now + this.options.timeoutMs + (call === 'link' || call === 'pair' ? this.options.linkTimeoutMs : 0);
    const wakeup = new Wakeup();
    this.waiting.set(id, wakeup);
    try {
      await store.write(async (tx) => {
        await tx
          .insertInto('session_calls')
          .values({ id, account_id: accountId, holder, caller: processId, call, args: JSON.stringify(args), created_at: now, deadline, claimed_at: null, answered_at: null, answer: null })
          .execute();
        await store.signals.notify(tx, callChannel(holder), id);
      });
      for (;;) {
        const row = await store.db.selectFrom('session_calls').select('answer').where('id', '=', id).executeTakeFirst();
        if (row?.answer != null) {
          try {
            const value = decodeAnswer(row.answer);
            this.options.forwarded?.(call, 'answered');
            return value;
          } catch (error) {
            this.options.forwarded?.(call, 'error');
            throw error;
          }
        }
        const left = deadline - Date.now();
        if (left <= 0) break;
        const woken = await wakeup.wait(Math.min(left, this.options.recheckMs ?? DEFAULT_RECHECK_MS));
        // The holder may have died or handed the session on: a call it never took goes where the session is now.
        if (!woken && (await this.holder(accountId)) !== holder && (await this.withdraw(id))) {
          return this.route(call, accountId, args);
        }
      }
      this.options.forwarded?.(call, 'timeout');
      this.options.log.warn({ accountId, call, holder }, 'the process holding the WhatsApp session did not answer a forwarded call in time');
      throw new AppError(
        'session_holder_unavailable',
        `Another server process holds this WhatsApp session and did not answer within ${Math.round((deadline - now) / 1000)} seconds; try again in a moment (if that process is gone, another one takes the session over shortly).`,
        { retryAfterSeconds: 5 },
      );
    } finally {
      this.waiting.delete(id);
      await store.write((tx) => tx.deleteFrom('session_calls').where('id', '=', id).execute()).catch(() => undefined);
    }
  }
}
