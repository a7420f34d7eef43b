import { randomBytes } from 'node:crypto';
import { isJidGroup, type WAMessageKey, type WAVersion } from 'baileys';
import type { Logger } from 'pino';
import { AppError, coerceError } from '../../core/errors.js';
import { readSession } from '../../core/sessions.js';
import type { Store } from '../../store/store.js';
import type { DriverEvents, Group, OutgoingMessage, PresenceState, SendOutcome, SessionView, WhatsAppDriver } from '../driver.js';
import { AckWaiter } from './ack-waiter.js';
import { AuthStateStore } from './auth-state-store.js';
import { buildMessage, messageFromLog } from './build-message.js';
import { protocolAttributes } from './build-protocol.js';
import { toJid } from './jid.js';
import { statusCodeOf } from './disconnect-reason.js';
import { GroupsCache } from './groups-cache.js';
import { IncomingEvents } from './incoming-events.js';
import { RecipientCache } from './recipient-cache.js';
import { DEFAULT_RECONNECT_POLICY, type ReconnectPolicyOptions } from './reconnect-policy.js';
import { SendPacer, type PacingOptions } from './send-pacer.js';
import { SessionLeases } from './session-lease.js';
import { routeSignalConsole } from './signal-console.js';
import { LinkFailedError, SessionRunner } from './session-runner.js';
import { baileysSocketFactory, type SocketFactory, type SocketLike } from './socket-factory.js';

export interface BaileysSettings {
  version: WAVersion;
  pacing: PacingOptions;
  reconnect: ReconnectPolicyOptions;
  markOnlineOnConnect: boolean;
  syncFullHistory: boolean;
  /** How long `session/link` and `session/pair` wait for WhatsApp before answering with an error. */
  linkTimeoutMs: number;
  connectTimeoutMs: number;
  /** A session's lease; renewed every third of it. */
  leaseMs: number;
  /** Level of Baileys' own log lines (ours say what happens in one line per event). */
  libraryLogLevel: string;
  /** How long a sent message waits for WhatsApp's server ack before it is sent again. */
  ackTimeoutMs: number;
  /** How long after a group change the groups list is fetched again (changes come in bursts). */
  groupRefreshDelayMs: number;
  /** Testing aid only: a local WhatsApp Web test server. */
  webSocketUrl?: string;
}

export const DEFAULT_BAILEYS_SETTINGS: BaileysSettings = {
  version: [2, 3000, 1043857760],
  pacing: { minMs: 800, maxMs: 2_000 },
  reconnect: DEFAULT_RECONNECT_POLICY,
  markOnlineOnConnect: false,
  syncFullHistory: false,
  linkTimeoutMs: 15_000,
  connectTimeoutMs: 20_000,
  leaseMs: 60_000,
  libraryLogLevel: 'silent',
  groupRefreshDelayMs: 5_000,
  ackTimeoutMs: 20_000,
};

export interface BaileysDriverOptions {
  store: Store;
  events: DriverEvents;
  log: Logger;
  clock?: () => number;
  secret: string;
  settings?: Partial<BaileysSettings>;
  /** Tests pass a fake socket; the default opens real Baileys sockets. */
  socketFactory?: SocketFactory;
  random?: () => number;
}

const UNLINKED_DETAIL = 'No WhatsApp number is linked. Link one with POST /api/v1/session/link (QR code) or /api/v1/session/pair (pairing code).';
const SOCKET_GONE_CODES = new Set([408, 428, 440, 500, 503, 515]);

function unlinkedView(detail = UNLINKED_DETAIL): SessionView {
  return { state: 'unlinked', phone: null, reason: null, qr: null, pairingCode: null, detail };
}

/**
 * The real WhatsApp driver: each linked session is a Baileys socket (a linked device), run by a
 * SessionRunner under a lease. Auth state lives encrypted in the database, so a restart brings
 * every linked session back without a new scan.
 */
export class BaileysDriver implements WhatsAppDriver {
  readonly name = 'baileys' as const;
  private readonly settings: BaileysSettings;
  private readonly clock: () => number;
  private readonly random: () => number;
  private readonly auth: AuthStateStore;
  private readonly leases: SessionLeases;
  private readonly groupsCache: GroupsCache;
  private readonly recipients: RecipientCache;
  private readonly pacer: SendPacer;
  private readonly factory: SocketFactory;
  private readonly runners = new Map<string, SessionRunner>();
  private readonly incoming: IncomingEvents;
  private readonly groupRefreshTimers = new Map<string, NodeJS.Timeout>();
  private readonly acks = new Map<string, AckWaiter>();
  private leaseTimer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(private readonly options: BaileysDriverOptions) {
    routeSignalConsole(options.log);
    this.settings = { ...DEFAULT_BAILEYS_SETTINGS, ...options.settings };
    this.clock = options.clock ?? Date.now;
    this.random = options.random ?? Math.random;
    this.auth = new AuthStateStore(options.store, options.secret, this.clock);
    this.leases = new SessionLeases(options.store, `${process.pid}-${randomBytes(4).toString('hex')}`, this.settings.leaseMs, this.clock);
    this.groupsCache = new GroupsCache(options.store, this.clock);
    this.recipients = new RecipientCache(options.store, this.clock);
    this.pacer = new SendPacer(this.settings.pacing, this.clock, this.random);
    this.incoming = new IncomingEvents(options.store, options.events, options.log.child({ component: 'whatsapp' }), this.clock);
    this.factory =
      options.socketFactory ??
      baileysSocketFactory({
        version: this.settings.version,
        markOnlineOnConnect: this.settings.markOnlineOnConnect,
        syncFullHistory: this.settings.syncFullHistory,
        connectTimeoutMs: this.settings.connectTimeoutMs,
        webSocketUrl: this.settings.webSocketUrl,
        logger: options.log.child({ component: 'baileys' }, { level: this.settings.libraryLogLevel }),
      });
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    if (this.settings.webSocketUrl) this.options.log.warn({ url: this.settings.webSocketUrl }, 'WhatsApp is pointed at a test server (WHATSAPP_WS_URL): a testing aid, not WhatsApp');
    await this.maintain(true);
    const every = Math.max(1_000, Math.floor(this.settings.leaseMs / 3));
    this.leaseTimer = setInterval(() => void this.maintain(), every);
    this.leaseTimer.unref();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    for (const timer of this.groupRefreshTimers.values()) clearTimeout(timer);
    this.groupRefreshTimers.clear();
    const runners = [...this.runners.entries()];
    this.runners.clear();
    await Promise.all(
      runners.map(async ([accountId, runner]) => {
        const wasLinked = !runner.linking && !runner.stopped;
        await runner.stop();
        if (wasLinked) {
          await this.publish(accountId, { ...runner.view, state: 'reconnecting', qr: null, pairingCode: null, detail: 'The server stopped; the session reconnects when it starts again.' });
        }
        await this.leases.release(accountId).catch(() => undefined);
      }),
    );
    await this.incoming.drain();
  }

  async session(accountId: string): Promise<SessionView> {
    const runner = this.runners.get(accountId);
    if (runner) return runner.view;
    const stored = await readSession(this.options.store.db, accountId);
    if (!stored) return unlinkedView();
    if (stored.state === 'linking') return unlinkedView();
    return { state: stored.state, phone: stored.phone, reason: stored.reason, qr: null, pairingCode: null, detail: stored.detail };
  }

  async accountsServedElsewhere(): Promise<string[]> {
    return this.leases.allHeldElsewhere();
  }

  async isConnected(accountId: string): Promise<boolean> {
    const runner = this.runners.get(accountId);
    if (runner) return runner.isOpen;
    // Another process may hold this session (PostgreSQL); trust its recorded state while its lease lives.
    const stored = await readSession(this.options.store.db, accountId);
    return stored?.state === 'connected' && (await this.leases.heldElsewhere(accountId));
  }

  async link(accountId: string): Promise<SessionView> {
    const runner = await this.linkingRunner(accountId);
    if (!runner.linking) return runner.view;
    await this.awaitLinkStep(accountId, runner);
    return runner.view;
  }

  async pair(accountId: string, phone: string): Promise<SessionView> {
    const runner = await this.linkingRunner(accountId);
    if (!runner.linking) return runner.view;
    if (!runner.view.pairingCode) {
      await this.awaitLinkStep(accountId, runner);
      if (!runner.linking) return runner.view;
      try {
        await runner.requestPairingCode(phone);
      } catch (error) {
        throw new AppError('service_unavailable', `Could not get a pairing code from WhatsApp: ${coerceError(error).message}`);
      }
    }
    return runner.view;
  }

  async logout(accountId: string): Promise<void> {
    const runner = this.runners.get(accountId);
    this.runners.delete(accountId);
    if (runner) await runner.logout(5_000);
    else await this.auth.clear(accountId);
    await this.groupsCache.clear(accountId);
    await this.recipients.forget(accountId);
    this.pacer.forget(accountId);
    await this.leases.release(accountId).catch(() => undefined);
    await this.publish(accountId, unlinkedView('Logged out. Link again to send.'));
  }

  async send(message: OutgoingMessage): Promise<SendOutcome> {
    const accountId = message.accountId;
    const notConnected = (): SendOutcome => ({ status: 'retry', at: this.clock() + 5_000, error: 'WhatsApp is not connected.', countsAsAttempt: false });
    const runner = this.runners.get(accountId);
    if (!runner?.isOpen) return notConnected();
    await this.pacer.wait(accountId);
    const socket = runner.socket;
    const userJid = runner.userJid;
    if (!socket || !userJid) return notConnected();
    try {
      let jid: string;
      if (isJidGroup(message.recipient)) {
        jid = message.recipient;
      } else {
        const found = await this.recipients.resolve(accountId, socket, message.recipient.replace(/\D/g, ''));
        if (!found) return { status: 'failed', error: `The number ${message.recipient} is not on WhatsApp.` };
        jid = found;
      }
      const built = await buildMessage(jid, message, { userJid, upload: socket.waUploadToServer });
      const acks = this.ackWaiter(accountId);
      const acked = acks.wait(message.waMessageId, this.settings.ackTimeoutMs);
      try {
        await socket.relayMessage(jid, built.message!, { messageId: message.waMessageId, additionalAttributes: protocolAttributes(message.kind) });
      } catch (error) {
        acks.cancel(message.waMessageId);
        throw error;
      }
      this.pacer.sent(accountId);
      const ack = await acked;
      if (ack.ok) return { status: 'sent', at: this.clock() };
      if (ack.reason === 'closed') return { status: 'retry', at: this.clock() + 2_000, error: 'The connection to WhatsApp closed before the server confirmed the message.', countsAsAttempt: false };
      if (ack.reason === 'timeout') return { status: 'retry', at: this.clock() + 2_000, error: 'WhatsApp did not confirm the message in time.', countsAsAttempt: true };
      if (ack.code === '463') return { status: 'failed', error: 'WhatsApp refused the message (463): this number may not start new chats right now.' };
      return { status: 'retry', at: this.clock() + 5_000, error: `WhatsApp refused the message (error ${ack.code}).`, countsAsAttempt: true };
    } catch (error) {
      const err = coerceError(error);
      const code = statusCodeOf(error);
      const socketGone = (code !== null && SOCKET_GONE_CODES.has(code)) || !runner.isOpen;
      return { status: 'retry', at: this.clock() + 2_000, error: `WhatsApp did not take the message: ${err.message}`, countsAsAttempt: !socketGone };
    }
  }

  async sendPresence(accountId: string, chat: string, state: PresenceState): Promise<void> {
    const socket = this.openSocket(accountId);
    await socket.sendPresenceUpdate?.(state, toJid(chat));
  }

  async markRead(accountId: string, chat: string, waMessageIds: string[] | null): Promise<void> {
    if (waMessageIds === null) {
      // Received messages are not logged yet, so the chat's unread ones are not known here.
      throw new AppError('missing_parameter', 'Missing required parameter: messageIds (the ids of the received messages to mark read, as in message.received events).');
    }
    const socket = this.openSocket(accountId);
    await socket.readMessages?.(waMessageIds.map((id) => ({ remoteJid: toJid(chat), id, fromMe: false })));
  }

  private openSocket(accountId: string) {
    const runner = this.runners.get(accountId);
    if (!runner?.isOpen || !runner.socket) throw new AppError('not_connected', 'WhatsApp is not connected for this account: link your number, then try again.');
    return runner.socket;
  }

  async groups(accountId: string): Promise<Group[]> {
    return this.groupsCache.list(accountId);
  }

  /** Renews this process's leases, stops sessions it lost, and picks up linked sessions nobody runs. */
  private async maintain(initial = false): Promise<void> {
    if (!this.running) return;
    try {
      const lost = await this.leases.renew([...this.runners.keys()]);
      for (const accountId of lost) {
        const runner = this.runners.get(accountId);
        this.runners.delete(accountId);
        this.options.log.warn({ accountId }, 'lost the lease on a WhatsApp session to another process; closing it here');
        await runner?.stop();
      }
      const linked = await this.auth.linkedAccounts();
      const linkedSet = new Set(linked);
      for (const [accountId, runner] of this.runners) {
        // Logged out through another process: its creds are gone.
        if (!runner.linking && !linkedSet.has(accountId)) {
          this.runners.delete(accountId);
          await runner.stop();
          await this.leases.release(accountId);
        }
      }
      for (const accountId of linked) {
        if (!this.running || this.runners.has(accountId)) continue;
        const stored = await readSession(this.options.store.db, accountId);
        // A session that ended here or in another process (gave up, replaced) waits for a restart or a new link.
        if (!initial && stored?.state === 'disconnected') continue;
        if (!(await this.leases.acquire(accountId))) continue;
        this.startRunner(accountId, {
          state: 'reconnecting',
          phone: stored?.phone ?? null,
          reason: null,
          qr: null,
          pairingCode: null,
          detail: 'Connecting to WhatsApp…',
        });
      }
      await this.incoming.prune();
    } catch (error) {
      this.options.log.error({ err: coerceError(error) }, 'WhatsApp session upkeep failed');
    }
  }

  private startRunner(accountId: string, initial: SessionView): SessionRunner {
    const log = this.options.log.child({ component: 'whatsapp', accountId });
    const runner: SessionRunner = new SessionRunner(
      {
        accountId,
        auth: this.auth,
        factory: this.factory,
        policy: this.settings.reconnect,
        log,
        clock: this.clock,
        random: this.random,
        getMessage: (key) => this.getMessage(accountId, key),
        publish: (view) => this.publish(accountId, view),
        attach: (socket) => this.attach(accountId, socket),
        detached: () => this.acks.get(accountId)?.closeAll(),
        opened: (socket) => this.scheduleGroupRefresh(accountId, socket, 0),
        ended: () => {
          if (this.runners.get(accountId) === runner) this.runners.delete(accountId);
          void this.leases.release(accountId).catch(() => undefined);
        },
      },
      initial,
    );
    this.runners.set(accountId, runner);
    if (initial.state !== 'linking') void this.publish(accountId, initial);
    runner.start();
    return runner;
  }

  /** The runner that links this account: the current one, or a fresh one with fresh creds. */
  private async linkingRunner(accountId: string): Promise<SessionRunner> {
    const existing = this.runners.get(accountId);
    if (existing && !existing.stopped) return existing;
    if (await this.leases.heldElsewhere(accountId)) {
      throw new AppError('conflict', 'Another MessageAPI server process is handling this WhatsApp session right now; try again in a minute.');
    }
    if (!(await this.leases.acquire(accountId))) {
      throw new AppError('conflict', 'Another MessageAPI server process took this WhatsApp session; try again in a minute.');
    }
    await this.auth.clear(accountId);
    await this.groupsCache.clear(accountId);
    await this.recipients.forget(accountId);
    return this.startRunner(accountId, { state: 'linking', phone: null, reason: null, qr: null, pairingCode: null, detail: 'Connecting to WhatsApp to get a QR code…' });
  }

  private async awaitLinkStep(accountId: string, runner: SessionRunner): Promise<void> {
    try {
      await runner.waitForQrOrOpen(this.settings.linkTimeoutMs);
    } catch (error) {
      if (this.runners.get(accountId) === runner) this.runners.delete(accountId);
      await runner.stop();
      await this.auth.clear(accountId);
      await this.leases.release(accountId).catch(() => undefined);
      const reason = error instanceof LinkFailedError ? error.message : coerceError(error).message;
      await this.publish(accountId, unlinkedView(`Linking could not start: ${reason}`));
      throw new AppError('service_unavailable', `Could not reach WhatsApp to start linking (${reason}). Check that this server can reach web.whatsapp.com, then try again.`);
    }
  }

  private async publish(accountId: string, view: SessionView): Promise<void> {
    await this.options.events.sessionChanged(accountId, view);
  }

  private attach(accountId: string, socket: SocketLike): void {
    socket.ws.on('CB:ack,class:message', this.ackWaiter(accountId).onAck);
    this.incoming.attach(accountId, socket);
    socket.ev.on('groups.upsert', () => this.scheduleGroupRefresh(accountId, socket, this.settings.groupRefreshDelayMs));
    socket.ev.on('groups.update', () => this.scheduleGroupRefresh(accountId, socket, this.settings.groupRefreshDelayMs));
    socket.ev.on('group-participants.update', () => this.scheduleGroupRefresh(accountId, socket, this.settings.groupRefreshDelayMs));
  }

  private ackWaiter(accountId: string): AckWaiter {
    let waiter = this.acks.get(accountId);
    if (!waiter) {
      waiter = new AckWaiter();
      this.acks.set(accountId, waiter);
    }
    return waiter;
  }

  private scheduleGroupRefresh(accountId: string, socket: SocketLike, delayMs: number): void {
    if (this.groupRefreshTimers.has(accountId)) return;
    const timer = setTimeout(() => {
      this.groupRefreshTimers.delete(accountId);
      if (this.runners.get(accountId)?.socket !== socket) return;
      socket
        .groupFetchAllParticipating()
        .then((groups) => this.groupsCache.replace(accountId, Object.values(groups)))
        .catch((error) => this.options.log.warn({ err: coerceError(error), accountId }, 'could not refresh the WhatsApp groups list'));
    }, delayMs);
    timer.unref();
    this.groupRefreshTimers.set(accountId, timer);
  }

  /** WhatsApp's retry requests ("waiting for this message"), answered from our message log. */
  private async getMessage(accountId: string, key: WAMessageKey) {
    if (!key.id) return undefined;
    const row = await this.options.store.db
      .selectFrom('messages')
      .select(['kind', 'text', 'filename'])
      .where('account_id', '=', accountId)
      .where('wa_message_id', '=', key.id)
      .executeTakeFirst();
    return row ? messageFromLog(row) : undefined;
  }
}
