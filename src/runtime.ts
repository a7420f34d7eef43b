import type { Logger } from 'pino';
import type { Config } from './config.js';
import { KeyAuthenticator } from './core/accounts.js';
import { pruneExpired } from './core/housekeeping.js';
import { recordIncoming } from './core/incoming.js';
import type { EventRecorder } from './core/events.js';
import { recordReceipt } from './core/messages.js';
import { releaseAllLocks } from './core/outbox.js';
import { OutcomeNotifier } from './core/outcome-notifier.js';
import { passwordHashingPool } from './core/password-hashing-pool.js';
import { recordSessionChange } from './core/sessions.js';
import { createMediaLoader } from './delivery/media-loader.js';
import { EventDelivery } from './delivery/webhooks/event-delivery.js';
import { MessageDispatcher } from './delivery/message-dispatcher.js';
import { createMetrics, type Metrics } from './metrics.js';
import { sampleSealedValues } from './core/sealed-data.js';
import { secureDataDir } from './data-dir.js';
import { loadOrCreateSecret } from './secret-key.js';
import { Store } from './store/store.js';
import { createDriver } from './whatsapp/create-driver.js';
import type { DriverEvents, WhatsAppDriver } from './whatsapp/driver.js';

const HOUSEKEEPING_EVERY_MS = 10 * 60 * 1000;

export interface Runtime {
  config: Config;
  store: Store;
  log: Logger;
  clock: () => number;
  secret: string;
  driver: WhatsAppDriver;
  events: EventRecorder;
  /** Webhook and e-mail delivery: the default recorder's outbox, its workers, "Test incoming". */
  eventDelivery: EventDelivery;
  notifier: OutcomeNotifier;
  dispatcher: MessageDispatcher;
  metrics: Metrics;
  auth: KeyAuthenticator;
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
  const store = options.store ?? Store.open(config.databaseUrl, { sqliteSynchronous: config.sqliteSynchronous });
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
  const notifier = new OutcomeNotifier();
  const metrics = createMetrics(store);

  const driverEvents: DriverEvents = {
    sessionChanged: (accountId, view) => recordSessionChange(store, events, accountId, view, clock()),
    incoming: (accountId, message) => recordIncoming(store, events, accountId, message, clock()),
    receipt: (accountId, waMessageId, kind, at) => recordReceipt(store, accountId, waMessageId, kind, at),
  };
  const driver = await createDriver(config, { store, events: driverEvents, log, clock, secret });
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
    events,
    eventDelivery,
    notifier,
    dispatcher,
    metrics,
    auth: new KeyAuthenticator(store),
    async start() {
      if (started) return;
      started = true;
      if (store.dialect === 'sqlite') await releaseAllLocks(store, 'message');
      await driver.start();
      dispatcher.start();
      await eventDelivery.start();
      const housekeeping = () => pruneExpired(store, clock(), config.webhooks.retentionDays).catch((error) => log.warn({ err: error }, 'housekeeping failed'));
      void housekeeping();
      housekeepingTimer = setInterval(housekeeping, HOUSEKEEPING_EVERY_MS);
      housekeepingTimer.unref();
    },
    async close() {
      if (housekeepingTimer) clearInterval(housekeepingTimer);
      await dispatcher.stop();
      await eventDelivery.stop();
      await driver.stop();
      if (ownsStore) await store.close();
    },
  };
}
