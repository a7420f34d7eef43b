import type { Logger } from 'pino';
import type { Config } from './config.js';
import { KeyAuthenticator } from './core/accounts.js';
import { pruneExpired } from './core/housekeeping.js';
import { recordIncoming } from './core/incoming.js';
import { recordIncomingChange } from './core/incoming-changes.js';
import { learnLids } from './core/lid-mappings.js';
import type { InboundDeps } from './core/inbound-deps.js';
import { MediaLinks } from './core/media-links.js';
import { pruneInboundMedia } from './core/media-retention.js';
import { recordReceipt } from './core/receipts.js';
import { MediaBytes } from './store/media-bytes.js';
import type { EventRecorder } from './core/events.js';
import { releaseAllLocks } from './core/outbox.js';
import { OutcomeNotifier } from './core/outcome-notifier.js';
import { passwordHashingPool } from './core/password-hashing-pool.js';
import { recordSessionChange } from './core/sessions.js';
import { recordRestrictions } from './core/restrictions/restrictions.js';
import { TimelockWatch } from './core/restrictions/timelock-watch.js';
import { createMediaLoader } from './delivery/media-loader.js';
import { EventDelivery } from './delivery/webhooks/event-delivery.js';
import { MessageDispatcher } from './delivery/message-dispatcher.js';
import { createMetrics, type Metrics } from './metrics.js';
import { sampleSealedValues } from './core/sealed-data.js';
import { secureDataDir } from './data-dir.js';
import { loadOrCreateSecret } from './secret-key.js';
import { Store } from './store/store.js';
import { createDriver } from './whatsapp/create-driver.js';
import { SessionOwnership } from './core/scale-out/session-ownership.js';
import { expireAllLeases, SqlLeaseBackend } from './core/scale-out/sql-lease-backend.js';
import type { DriverEvents, WhatsAppDriver } from './whatsapp/driver.js';
import type { SessionCalls } from './core/session-calls.js';
import { createSessionCalls } from './whatsapp/session-calls/create-session-calls.js';

const HOUSEKEEPING_EVERY_MS = 10 * 60 * 1000;

export interface Runtime {
  config: Config;
  store: Store;
  log: Logger;
  clock: () => number;
  secret: string;
  driver: WhatsAppDriver;
  /** Calls that need a session's socket, run wherever that socket is (the route layer uses these, not the driver). */
  sessionCalls: SessionCalls;
  events: EventRecorder;
  /** Webhook and e-mail delivery: the default recorder's outbox, its workers, "Test incoming". */
  eventDelivery: EventDelivery;
  notifier: OutcomeNotifier;
  dispatcher: MessageDispatcher;
  metrics: Metrics;
  /** This process's share of the WhatsApp sessions when several processes share one database. */
  ownership: SessionOwnership;
  auth: KeyAuthenticator;
  /** Inbound media: where the bytes are and how their links are signed. */
  inbound: InboundDeps;
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  log: Logger;
  clock?: () => number;
  /** An already-open store (tests share one); otherwise opened from DATABASE_URL. */
  store?: Store;
  events?: EventRecorder;
  /** Jitter for webhook and e-mail retries (tests pin it). */
  random?: () => number;
}

/** Builds every long-lived part of the gateway from the configuration. Nothing runs until `start`. */
export async function createRuntime(config: Config, options: RuntimeOptions): Promise<Runtime> {
  const clock = options.clock ?? Date.now;
  const log = options.log;
  secureDataDir(config.dataDir, log);
  // A holder paused mid-transaction loses it by the time its lease could expire (renewal + this),
  // but never sooner than 10 s: a busy process's own transactions must not be cut short.
  const idleInTransactionTimeoutMs = Math.max(10_000, config.sessionLeases.leaseMs - config.sessionLeases.marginMs);
  const store = options.store ?? Store.open(config.databaseUrl, { sqliteSynchronous: config.sqliteSynchronous, idleInTransactionTimeoutMs });
  const ownsStore = options.store === undefined;
  passwordHashingPool.setLimits(config.passwordHashing);
  let secret: string;
  try {
    await store.migrate();
    // A missing or wrong secret key stops the start here, with what to restore, rather than as 500s later.
    secret = loadOrCreateSecret(config.dataDir, config.secret, await sampleSealedValues(store));
  } catch (error) {
    if (ownsStore) await store.close();
    throw error;
  }
  const eventDelivery = new EventDelivery({ config, store, log: log.child({ component: 'events' }), clock, secret, random: options.random });
  const events = options.events ?? eventDelivery.recorder;
  const notifier = new OutcomeNotifier(store);
  const leaseLog = log.child({ component: 'sessions' });
  const ownership = new SessionOwnership(
    new SqlLeaseBackend(store),
    { ...config.sessionLeases, maxReleasesPerTick: 10 },
    clock,
    (error) => leaseLog.warn({ err: error }, 'session lease upkeep failed'),
  );
  const metrics = createMetrics(store, ownership);

  const timelocks = new TimelockWatch(store, events, clock, (err) => log.warn({ err }, 'could not lift lapsed WhatsApp restrictions'));
  const inbound: InboundDeps = { store, events, media: new MediaBytes(store, config.dataDir), links: new MediaLinks(secret), config };
  const driverEvents: DriverEvents = {
    sessionChanged: (accountId, view) => recordSessionChange(store, events, accountId, view, clock()),
    incoming: (accountId, message) => recordIncoming(inbound, accountId, message, clock()),
    incomingChange: (accountId, change) => recordIncomingChange(inbound, accountId, change, clock()),
    receipt: (accountId, waMessageId, kind, at) => recordReceipt(store, events, accountId, waMessageId, kind, at, clock()),
    restrictionsChanged: async (accountId, report) => {
      await recordRestrictions(store, events, accountId, report, clock());
      timelocks.changed();
    },
    lidsLearned: (accountId, pairs) => store.write((tx) => learnLids(tx, accountId, pairs, clock())),
  };
  const driver = await createDriver(config, { store, events: driverEvents, log, clock, secret, ownership });
  const sessionCalls = createSessionCalls({
    store,
    driver,
    processId: ownership.id,
    log: log.child({ component: 'session-calls' }),
    linkTimeoutMs: config.whatsapp.linkTimeoutMs,
    forwarded: (call, outcome) => metrics.forwardedCalls.inc({ call, outcome }),
  });
  const dispatcher = new MessageDispatcher({
    store,
    driver,
    events,
    notifier,
    loadMedia: createMediaLoader(config),
    log: log.child({ component: 'dispatcher' }),
    metrics,
    clock,
    lockMs: config.outboxLockMs,
    fence: { ownership, takeOnDemand: driver.name === 'sandbox' },
  });

  let started = false;
  let housekeepingTimer: NodeJS.Timeout | undefined;
  return {
    config,
    store,
    log,
    clock,
    secret,
    driver,
    sessionCalls: sessionCalls.calls,
    events,
    eventDelivery,
    notifier,
    dispatcher,
    metrics,
    ownership,
    auth: new KeyAuthenticator(store),
    inbound,
    async start() {
      if (started) return;
      started = true;
      // On SQLite only one server runs (serve holds store/server-lock.ts): what is locked now, a dead process left.
      if (store.dialect === 'sqlite') {
        await releaseAllLocks(store, 'message');
        await expireAllLeases(store);
      }
      // Listening for forwarded calls before taking any session, so none is missed.
      await sessionCalls.start();
      await notifier.start();
      await driver.start();
      dispatcher.start();
      await eventDelivery.start();
      timelocks.start();
      const housekeeping = () =>
        pruneExpired(store, clock(), config.webhooks.retentionDays)
          .then(() => pruneInboundMedia(inbound, clock()))
          .catch((error) => log.warn({ err: error }, 'housekeeping failed'));
      void housekeeping();
      housekeepingTimer = setInterval(housekeeping, HOUSEKEEPING_EVERY_MS);
      housekeepingTimer.unref();
    },
    async close() {
      if (housekeepingTimer) clearInterval(housekeepingTimer);
      await timelocks.stop();
      await dispatcher.stop();
      await eventDelivery.stop();
      await sessionCalls.stop();
      notifier.stop();
      await driver.stop();
      if (ownsStore) await store.close();
    },
  };
}
