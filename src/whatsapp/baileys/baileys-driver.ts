import { isJidGroup, isLidUser, type WAMessageKey, type WAVersion } from 'baileys';
import type { Logger } from 'pino';
import { AppError, coerceError } from '../../core/errors.js';
import { readSession } from '../../core/sessions.js';
import type { Store } from '../../store/store.js';
import type { DriverEvents, Group, OutgoingMessage, PresenceState, ReadTarget, SendOutcome, SessionView, WhatsAppDriver } from '../driver.js';
import { AckWaiter } from './ack-waiter.js';
import { askTimelockAfter463, attachRestrictionEvents } from './restriction-events.js';
import { reachoutSentence } from '../../core/restrictions/restrictions.js';
import { AuthStateStore } from './auth-state-store.js';
import { buildMessage } from './build-message.js';
import { rebuildFromLog } from './rebuild-from-log.js';
import { toJid } from './jid.js';
import { statusCodeOf } from './disconnect-reason.js';
import { GroupsCache } from './groups-cache.js';
import { IncomingEvents } from './incoming-events.js';
import { RecipientCache } from './recipient-cache.js';
import { DEFAULT_RECONNECT_POLICY, type ReconnectPolicyOptions } from './reconnect-policy.js';
import { SendPacer, type PacingOptions } from '../send-pacer.js';
import { stanzaExtras } from './stanza-extras.js';
import { defaultOwnershipSettings, SessionOwnership } from '../../core/scale-out/session-ownership.js';
import { SqlLeaseBackend } from '../../core/scale-out/sql-lease-backend.js';
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
  /** How long each QR lives before the next one (undefined: Baileys' 60 s, then 20 s). */
  qrTimeoutMs?: number;
  /** A session's lease when the driver makes its own SessionOwnership (tests); the gateway passes one built from SESSION_LEASE_*. */
  leaseMs: number;
  /** Level of Baileys' own log lines (ours say what happens in one line per event). */
  libraryLogLevel: string;
  /** How long a sent message waits for WhatsApp's server ack before it is sent again. */
  ackTimeoutMs: number;
  /** How long after a group change the groups list is fetched again (changes come in bursts). */
  groupRefreshDelayMs: number;
  /** Testing aid only: a local WhatsApp Web test server. */
  webSocketUrl?: string;
  /** Received files above this size (as WhatsApp declares it) are not downloaded (INBOUND_MEDIA_MAX_BYTES). */
  inboundMediaMaxBytes: number;
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
  inboundMediaMaxBytes: 100 * 1024 * 1024,
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
  /** This process's share of the sessions; made from `settings.leaseMs` when absent. */
  ownership?: SessionOwnership;
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
  private readonly ownership: SessionOwnership;
  private readonly groupsCache: GroupsCache;
  private readonly recipients: RecipientCache;
  private readonly pacer: SendPacer;
  private readonly factory: SocketFactory;
  private readonly runners = new Map<string, SessionRunner>();
  private readonly incoming: IncomingEvents;
  private readonly groupRefreshTimers = new Map<string, NodeJS.Timeout>();
  private readonly acks = new Map<string, AckWaiter>();
  /** Linked sessions that ended as `disconnected` are tried again once, at this process's start. */
  private retryDisconnected = true;
  private running = false;

  constructor(private readonly options: BaileysDriverOptions) {
    routeSignalConsole(options.log);
    this.settings = { ...DEFAULT_BAILEYS_SETTINGS, ...options.settings };
    this.clock = options.clock ?? Date.now;
    this.random = options.random ?? Math.random;
    this.auth = new AuthStateStore(options.store, options.secret, this.clock);
    this.ownership =
      options.ownership ??
      new SessionOwnership(new SqlLeaseBackend(options.store), defaultOwnershipSettings(this.settings.leaseMs), this.clock, (error) =>
        options.log.error({ err: error }, 'WhatsApp session upkeep failed'),
      );
    // A session leaving this process (lost, or handed back to balance): its socket closes at once.
    this.ownership.onLost((accountId) => this.stopRunner(accountId, 'moved to another process'));
    this.groupsCache = new GroupsCache(options.store, this.clock);
    this.recipients = new RecipientCache(options.store, this.clock);
    this.pacer = new SendPacer(this.settings.pacing, this.clock, this.random);
    this.incoming = new IncomingEvents(options.store, options.events, options.log.child({ component: 'whatsapp' }), this.clock, this.settings.inboundMediaMaxBytes);
    this.factory =
      options.socketFactory ??
      baileysSocketFactory({
        version: this.settings.version,
        markOnlineOnConnect: this.settings.markOnlineOnConnect,
        syncFullHistory: this.settings.syncFullHistory,
        connectTimeoutMs: this.settings.connectTimeoutMs,
        qrTimeoutMs: this.settings.qrTimeoutMs,
        webSocketUrl: this.settings.webSocketUrl,
        logger: options.log.child({ component: 'baileys' }, { level: this.settings.libraryLogLevel }),
      });
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    if (this.settings.webSocketUrl) this.options.log.warn({ url: this.settings.webSocketUrl }, 'WhatsApp is pointed at a test server (WHATSAPP_WS_URL): a testing aid, not WhatsApp');
    await this.ownership.start({
      sessions: () => this.sessionsToRun(),
      pinned: () => new Set([...this.runners].filter(([, r]) => r.linking && !r.stopped).map(([id]) => id)),
      gained: (accountId) => this.runHere(accountId),
    });
    this.retryDisconnected = false;
  }

  async stop(): Promise<void> {
    this.running = false;
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
      }),
    );
    // Every lease handed back at once: another process takes these sessions at its next round.
    await this.ownership.stop();
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

  async sessionHolder(accountId: string): Promise<string | null> {
    if (this.runners.has(accountId)) return null;
    return this.ownership.holderElsewhere(accountId);
  }

  async accountsServedElsewhere(): Promise<string[]> {
    return this.ownership.accountsHeldElsewhere();
  }

  async isConnected(accountId: string): Promise<boolean> {
    const runner = this.runners.get(accountId);
    if (runner) return runner.isOpen;
    // Another process may hold this session (PostgreSQL); trust its recorded state while its lease lives.
    const stored = await readSession(this.options.store.db, accountId);
    return stored?.state === 'connected' && (await this.ownership.heldElsewhere(accountId));
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
    await this.ownership.release(accountId).catch(() => undefined);
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
    const fenced = (): boolean => message.leaseToken !== undefined && this.ownership.sendToken(accountId) !== message.leaseToken;
    try {
      let jid: string;
      if (isJidGroup(message.recipient) || isLidUser(message.recipient)) {
        // A LID is someone who wrote to this number: on WhatsApp by definition, addressed as named.
        jid = message.recipient;
      } else {
        const found = await this.recipients.resolve(accountId, socket, message.recipient.replace(/\D/g, ''));
        if (!found) return { status: 'failed', error: `The number ${message.recipient} is not on WhatsApp.` };
        jid = found;
      }
      const built = await buildMessage(jid, message, { userJid, upload: socket.waUploadToServer });
      // The fence right before the network: the lease must outlive the send by the margin.
      if (fenced()) return { status: 'retry', at: this.clock() + 1_000, error: 'This process no longer holds the WhatsApp session.', countsAsAttempt: false };
      const acks = this.ackWaiter(accountId);
      const acked = acks.wait(message.waMessageId, this.settings.ackTimeoutMs);
      try {
        await socket.relayMessage(jid, built.message!, { messageId: message.waMessageId, ...stanzaExtras(message.kind) });
      } catch (error) {
        acks.cancel(message.waMessageId);
        throw error;
      }
      this.pacer.sent(accountId);
      const ack = await acked;
      if (ack.ok) return { status: 'sent', at: this.clock() };
      if (ack.reason === 'closed') return { status: 'retry', at: this.clock() + 2_000, error: 'The connection to WhatsApp closed before the server confirmed the message.', countsAsAttempt: false };
      if (ack.reason === 'timeout') return { status: 'retry', at: this.clock() + 2_000, error: 'WhatsApp did not confirm the message in time.', countsAsAttempt: true };
      // Never retried: a retry of a restricted send makes the restriction longer.
      if (ack.code === '463') {
        askTimelockAfter463(accountId, socket, this.options.log);
        return { status: 'failed', error: `WhatsApp refused the message (463). ${reachoutSentence(null)}`, code: 'reachout_restricted' };
      }
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

  async markRead(accountId: string, chat: string, targets: ReadTarget[]): Promise<void> {
    const socket = this.openSocket(accountId);
    const participantJid = (who: string) => (who.includes('@') ? who : toJid(who));
    await socket.readMessages?.(
      targets.map((t) => ({ remoteJid: toJid(chat), id: t.waMessageId, fromMe: false, participant: t.participant ? participantJid(t.participant) : undefined })),
    );
  }

  private openSocket(accountId: string) {
    const runner = this.runners.get(accountId);
    if (!runner?.isOpen || !runner.socket || this.ownership.sendToken(accountId) === null) throw new AppError('not_connected', 'WhatsApp is not connected for this account: link your number, then try again.');
    return runner.socket;
  }

  async groups(accountId: string): Promise<Group[]> {
    return this.groupsCache.list(accountId);
  }

  /**
   * The sessions that should run on some process: linked ones (not those that ended `disconnected`,
   * except once at start), and links in progress here. Sessions logged out through another process
   * stop here.
   */
  private async sessionsToRun(): Promise<string[]> {
    const linked = await this.auth.linkedAccounts();
    const linkedSet = new Set(linked);
    for (const [accountId, runner] of this.runners) {
      // Logged out through another process: its creds are gone.
      if (!runner.linking && !linkedSet.has(accountId)) await this.stopRunner(accountId, 'logged out elsewhere');
    }
    const out: string[] = [];
    for (const accountId of linked) {
      if (!this.runners.has(accountId) && (await this.waitsForRestart(accountId))) continue;
      out.push(accountId);
    }
    for (const [accountId, runner] of this.runners) if (runner.linking && !runner.stopped && !linkedSet.has(accountId)) out.push(accountId);
    await this.incoming.prune().catch((error) => this.options.log.warn({ err: coerceError(error) }, 'could not prune the seen-messages table'));
    return out;
  }

  /** A session that ended here or in another process (gave up, replaced) waits for a restart or a new link. */
  private async waitsForRestart(accountId: string): Promise<boolean> {
    if (this.retryDisconnected) return false;
    return (await readSession(this.options.store.db, accountId))?.state === 'disconnected';
  }

  /** This process took the session's lease: connect it here. */
  private async runHere(accountId: string): Promise<void> {
    if (!this.running || this.runners.has(accountId)) return;
    // It may have ended here while the lease round that took it again was deciding.
    if (await this.waitsForRestart(accountId)) {
      await this.ownership.release(accountId).catch(() => undefined);
      return;
    }
    const stored = await readSession(this.options.store.db, accountId);
    this.startRunner(accountId, { state: 'reconnecting', phone: stored?.phone ?? null, reason: null, qr: null, pairingCode: null, detail: 'Connecting to WhatsApp…' });
  }

  private async stopRunner(accountId: string, why: string): Promise<void> {
    const runner = this.runners.get(accountId);
    if (!runner) return;
    this.runners.delete(accountId);
    this.options.log.info({ accountId }, `WhatsApp session ${why}; closing it here`);
    await runner.stop();
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
          void this.ownership.release(accountId).catch(() => undefined);
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
    if (await this.ownership.heldElsewhere(accountId)) {
      throw new AppError('conflict', 'Another MessageAPI server process is handling this WhatsApp session right now; try again in a minute.');
    }
    if ((await this.ownership.takeNow(accountId)) === null) {
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
      await this.ownership.release(accountId).catch(() => undefined);
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
    const restrictionsChanged = this.options.events.restrictionsChanged;
    if (restrictionsChanged) attachRestrictionEvents(accountId, socket, (id, r) => restrictionsChanged(id, r), this.options.log.child({ component: 'whatsapp' }));
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
      .select(['id', 'account_id', 'recipient', 'kind', 'text', 'filename', 'wa_message_id', 'created_at', 'content'])
      .where('account_id', '=', accountId)
      .where('wa_message_id', '=', key.id)
      // Only what we sent is ours to send again; received messages share the log since issue 14.
      .where('direction', '=', 'out')
      .executeTakeFirst();
    if (!row) return undefined;
    return rebuildFromLog(row, key.remoteJid ?? toJid(row.recipient), this.runners.get(accountId)?.userJid);
  }
}
