import { jidDecode, type AuthenticationCreds, type BaileysEventMap } from 'baileys';
import type { Logger } from 'pino';
import { coerceError } from '../../core/errors.js';
import type { SessionView } from '../driver.js';
import { isLinked, type AuthStateStore } from './auth-state-store.js';
import { classifyClose, failureAdvice, type ClassifiedClose } from './disconnect-reason.js';
import { nextReconnect, type ReconnectPolicyOptions } from './reconnect-policy.js';
import type { SocketFactory, SocketLike, SocketOptions } from './socket-factory.js';

export interface SessionRunnerDeps {
  accountId: string;
  auth: AuthStateStore;
  factory: SocketFactory;
  policy: ReconnectPolicyOptions;
  log: Logger;
  clock: () => number;
  random: () => number;
  getMessage: SocketOptions['getMessage'];
  /** Persists a view change (the gateway raises `session.disconnected` from it). Called in order. */
  publish(view: SessionView): Promise<void>;
  /** A new socket exists: subscribe to its message events. */
  attach(socket: SocketLike): void;
  /** The socket is open. */
  opened(socket: SocketLike): void;
  /** The socket closed (or was closed): whatever waits on it must stop waiting. */
  detached(): void;
  /** The runner stopped for good (logged out, replaced, gave up, linking failed). */
  ended(): void;
}

type Phase = 'idle' | 'connecting' | 'open' | 'waiting' | 'stopped';

/** How many 515 "restart required" in a row are honoured at once before backing off like any failure. */
const MAX_QUICK_RESTARTS = 3;

export class LinkFailedError extends Error {}

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}

export function phoneFromCreds(creds: AuthenticationCreds | undefined): string | null {
  const id = creds?.me?.id;
  return id ? (jidDecode(id)?.user ?? null) : null;
}

/**
 * One WhatsApp session: exactly one socket at a time and a single-flight reconnect loop.
 * `restartRequired` reconnects at once; other failures back off exponentially with jitter until
 * the policy gives up (`disconnected` / `connection_lost`); `loggedOut` clears the creds
 * (`disconnected` / `logged_out`); `connectionReplaced` stops without fighting back. The view is
 * `connected` only between the socket's `open` and its `close`.
 */
export class SessionRunner {
  private phase: Phase = 'idle';
  private socketRef: SocketLike | undefined;
  private generation = 0;
  private timer: NodeJS.Timeout | undefined;
  private creds: AuthenticationCreds | undefined;
  private failingSince: number | null = null;
  private attempt = 0;
  private quickRestarts = 0;
  private lastFailure: { description: string; count: number } | null = null;
  private pairingCode: string | null = null;
  private intentionalEnd = false;
  private waiters: Waiter[] = [];
  private publishing: Promise<void> = Promise.resolve();
  private saving: Promise<void> = Promise.resolve();
  private current: SessionView;

  /** `link`: a new device, fresh creds; `resume`: a device linked earlier. */
  constructor(
    private readonly deps: SessionRunnerDeps,
    initial: SessionView,
    private readonly mode: 'link' | 'resume' = initial.state === 'linking' ? 'link' : 'resume',
  ) {
    this.current = initial;
  }

  get view(): SessionView {
    return this.current;
  }

  get isOpen(): boolean {
    return this.phase === 'open' && this.socketRef !== undefined;
  }

  get socket(): SocketLike | undefined {
    return this.isOpen ? this.socketRef : undefined;
  }

  get userJid(): string | undefined {
    return this.creds?.me?.id;
  }

  get stopped(): boolean {
    return this.phase === 'stopped';
  }

  /** Still linking a new device (a resumed one counts as linked even before its creds are read). */
  get linking(): boolean {
    return this.mode === 'link' && !(this.creds && isLinked(this.creds));
  }

  /** Starts connecting (no-op while a socket exists or a reconnect is scheduled: single flight). */
  start(): void {
    if (this.phase !== 'idle') return;
    this.phase = 'connecting';
    this.inBackground(this.connect());
  }

  /** Resolves at the first QR or at `open`, rejects when the attempt fails or time runs out. */
  waitForQrOrOpen(timeoutMs: number): Promise<void> {
    if (this.isOpen || this.current.qr) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new LinkFailedError(`WhatsApp did not answer within ${Math.round(timeoutMs / 1000)} seconds.`));
      }, timeoutMs);
      const waiter: Waiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** Asks WhatsApp for an 8-character code for `phone` (the socket must be open and not yet registered). */
  async requestPairingCode(phone: string): Promise<string> {
    const socket = this.socketRef;
    if (!socket || this.phase !== 'connecting') throw new LinkFailedError('The connection to WhatsApp is not ready for a pairing code.');
    const code = await socket.requestPairingCode(phone);
    this.pairingCode = code;
    await this.setView({
      state: 'linking',
      phone: null,
      reason: null,
      qr: null,
      pairingCode: code,
      detail: 'On the phone: WhatsApp → Linked devices → Link a device → Link with phone number instead, then enter this code.',
    });
    return code;
  }

  /** Closes the socket and cancels any reconnect; publishes nothing. */
  async stop(): Promise<void> {
    this.phase = 'stopped';
    this.generation++;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const socket = this.socketRef;
    this.socketRef = undefined;
    this.intentionalEnd = true;
    this.deps.detached();
    if (socket) {
      try {
        await socket.end(undefined);
      } catch (error) {
        this.deps.log.debug({ err: coerceError(error) }, 'error while closing the WhatsApp socket');
      }
    }
    this.failWaiters(new LinkFailedError('Linking was stopped.'));
    await this.saving;
    await this.publishing;
  }

  /** Unlinks the device on WhatsApp (when connected), then closes and forgets the creds. */
  async logout(timeoutMs: number): Promise<void> {
    const socket = this.socket;
    this.intentionalEnd = true;
    this.generation++;
    if (socket) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        socket.logout('Logged out through MessageAPI').catch((error) => this.deps.log.warn({ err: coerceError(error) }, 'WhatsApp logout request failed')),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
      ]);
      clearTimeout(timer);
    }
    await this.stop();
    await this.deps.auth.clear(this.deps.accountId);
  }

  private async connect(): Promise<void> {
    const generation = ++this.generation;
    this.timer = undefined;
    let socket: SocketLike;
    try {
      const state = await this.deps.auth.state(this.deps.accountId);
      if (generation !== this.generation) return;
      this.creds = state.creds;
      socket = this.deps.factory({ accountId: this.deps.accountId, auth: state, getMessage: this.deps.getMessage });
    } catch (error) {
      if (generation !== this.generation) return;
      await this.closed(generation, error);
      return;
    }
    this.socketRef = socket;
    this.intentionalEnd = false;
    socket.ev.on('creds.update', (update) => this.credsUpdated(generation, update));
    socket.ev.on('connection.update', (update) => this.inBackground(this.connectionUpdate(generation, update)));
    this.deps.attach(socket);
  }

  private credsUpdated(generation: number, update: Partial<AuthenticationCreds>): void {
    if (generation !== this.generation || !this.creds) return;
    Object.assign(this.creds, update);
    const creds = this.creds;
    this.saving = this.saving
      .then(() => this.deps.auth.saveCreds(this.deps.accountId, creds))
      .catch((error) => this.deps.log.error({ err: coerceError(error) }, 'could not save WhatsApp creds'));
  }

  private async connectionUpdate(generation: number, update: BaileysEventMap['connection.update']): Promise<void> {
    if (generation !== this.generation) return;
    if (update.qr && !this.pairingCode) {
      await this.setView({ state: 'linking', phone: null, reason: null, qr: update.qr, pairingCode: null, detail: 'Scan this QR code with the phone: WhatsApp → Linked devices → Link a device.' });
      this.resolveWaiters();
    } else if (update.qr && this.pairingCode) {
      this.resolveWaiters();
    }
    if (update.connection === 'open') {
      this.phase = 'open';
      this.failingSince = null;
      this.attempt = 0;
      this.quickRestarts = 0;
      this.lastFailure = null;
      this.pairingCode = null;
      await this.saving;
      this.deps.log.info('WhatsApp connected');
      await this.setView({ state: 'connected', phone: phoneFromCreds(this.creds), reason: null, qr: null, pairingCode: null, detail: null });
      this.resolveWaiters();
      const socket = this.socketRef;
      if (socket && generation === this.generation) this.deps.opened(socket);
    }
    if (update.connection === 'close') {
      await this.closed(generation, update.lastDisconnect?.error);
    }
  }

  private async closed(generation: number, error: unknown): Promise<void> {
    if (generation !== this.generation || this.phase === 'stopped') return;
    this.socketRef = undefined;
    this.deps.detached();
    if (this.intentionalEnd) return;
    // Never `connected` while the socket is closed, even for the moment it takes to decide.
    this.phase = 'connecting';
    if (this.current.state === 'connected') this.current = { ...this.current, state: 'reconnecting', detail: 'Reconnecting to WhatsApp…' };
    await this.saving;
    const close = classifyClose(error);
    const linked = this.creds !== undefined && isLinked(this.creds);
    switch (close.action) {
      case 'restart':
        if (this.quickRestarts < MAX_QUICK_RESTARTS) {
          this.quickRestarts++;
          this.deps.log.info({ code: close.code }, 'WhatsApp asked for a restart; reconnecting now');
          this.inBackground(this.connect());
          return;
        }
        return this.retryLater(close, linked);
      case 'logged_out':
        return this.finish(close, linked ? 'logged_out' : 'unlinked');
      case 'replaced':
        return this.finish(close, 'replaced');
      case 'retry':
        return this.retryLater(close, linked);
    }
  }

  private async retryLater(close: ClassifiedClose, linked: boolean): Promise<void> {
    if (!linked) return this.finish(close, 'link_failed');
    const now = this.deps.clock();
    this.failingSince ??= now;
    this.attempt++;
    this.lastFailure = this.lastFailure?.description === close.description ? { description: close.description, count: this.lastFailure.count + 1 } : { description: close.description, count: 1 };
    const next = nextReconnect(this.deps.policy, this.attempt, this.failingSince, now, this.deps.random);
    if (next.giveUp) return this.finish(close, 'gave_up');
    const seconds = Math.max(1, Math.round(next.delayMs / 1000));
    const repeated = this.lastFailure.count > 1 ? `, ${this.lastFailure.count} times in a row` : '';
    this.deps.log.warn(
      { code: close.code, attempt: this.attempt, retryInMs: next.delayMs },
      `WhatsApp connection failed: ${close.description}${repeated}; retrying in ${seconds}s`,
    );
    this.phase = 'waiting';
    const generation = this.generation;
    // The timer starts now: backoff timing never depends on how long recording the state takes.
    this.timer = setTimeout(() => {
      if (generation !== this.generation || this.phase !== 'waiting') return;
      this.phase = 'connecting';
      this.inBackground(this.connect());
    }, next.delayMs);
    await this.setView({
      state: 'reconnecting',
      phone: phoneFromCreds(this.creds),
      reason: close.description,
      qr: null,
      pairingCode: null,
      detail: `Reconnecting to WhatsApp: ${close.description}${repeated}. ${failureAdvice(close.code)} Next attempt in ${seconds} s.`,
    });
  }

  private async finish(close: ClassifiedClose, how: 'logged_out' | 'unlinked' | 'replaced' | 'gave_up' | 'link_failed'): Promise<void> {
    this.phase = 'stopped';
    this.generation++;
    const phone = phoneFromCreds(this.creds);
    const log = this.deps.log;
    const accountId = this.deps.accountId;
    let view: SessionView;
    switch (how) {
      case 'logged_out':
        log.warn({ code: close.code }, `WhatsApp session logged out: ${close.description}; creds cleared`);
        await this.deps.auth.clear(accountId);
        view = { state: 'disconnected', phone, reason: 'logged_out', qr: null, pairingCode: null, detail: 'WhatsApp was unlinked from the phone. Link again to send.' };
        break;
      case 'unlinked':
        await this.deps.auth.clear(accountId);
        view = { state: 'unlinked', phone: null, reason: null, qr: null, pairingCode: null, detail: `Linking was refused: ${close.description}. Link again to send.` };
        break;
      case 'replaced':
        log.warn({ code: close.code }, 'WhatsApp session opened elsewhere with the same creds; this server stopped it');
        view = {
          state: 'disconnected',
          phone,
          reason: 'connection_replaced',
          qr: null,
          pairingCode: null,
          detail: 'This WhatsApp session was opened somewhere else with the same credentials (another server or process), so this server stopped using it rather than fight over it. Stop the other one, then restart this server, or link again.',
        };
        break;
      case 'gave_up':
        log.error({ code: close.code, attempts: this.attempt }, `WhatsApp connection could not be restored: ${close.description}; giving up`);
        view = {
          state: 'disconnected',
          phone,
          reason: 'connection_lost',
          qr: null,
          pairingCode: null,
          detail: `The connection was lost and could not be restored (last error: ${close.description}). ${failureAdvice(close.code)} Restart the server or link again.`,
        };
        break;
      case 'link_failed':
        log.warn({ code: close.code }, `WhatsApp linking failed: ${close.description}`);
        await this.deps.auth.clear(accountId);
        view = { state: 'unlinked', phone: null, reason: null, qr: null, pairingCode: null, detail: `Linking stopped: ${close.description}. Start linking again.` };
        break;
    }
    this.failWaiters(new LinkFailedError(close.description));
    await this.setView(view);
    this.deps.ended();
  }

  /**
   * Runs a step nobody awaits (a reconnect, a socket event): a failure in it (the database
   * refusing to clear creds, say) is logged, not left to reject into nothing.
   */
  private inBackground(step: Promise<void>): void {
    step.catch((error) => this.deps.log.error({ err: coerceError(error) }, 'a WhatsApp session step failed'));
  }

  private setView(view: SessionView): Promise<void> {
    this.current = view;
    this.publishing = this.publishing
      .then(() => this.deps.publish(view))
      .catch((error) => this.deps.log.error({ err: coerceError(error) }, 'could not record the WhatsApp session state'));
    return this.publishing;
  }

  private resolveWaiters(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.resolve();
  }

  private failWaiters(error: Error): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(error);
  }
}
