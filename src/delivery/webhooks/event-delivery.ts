import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import type { Account } from '../../core/accounts.js';
import { coerceError, AppError } from '../../core/errors.js';
import type { GatewayEvent } from '../../core/events.js';
import { newId, randomBase62 } from '../../core/ids.js';
import { releaseAllLocks } from '../../core/outbox.js';
import { SecretBox } from '../../core/secret-box.js';
import { requireWebhookPlan } from '../../core/settings.js';
import { recordAttempt, recordTestDelivery, webhookBody } from '../../core/webhook-deliveries.js';
import type { Store } from '../../store/store.js';
import { EmailSender } from '../email/email-sender.js';
import type { LookupFn } from '../../core/url-policy/resolve-host.js';
import { OutboxWorker } from '../outbox-worker.js';
import { announceEventLog, EventLogWaiters } from '../../core/event-log-waiters.js';
import { OutboxEventRecorder } from './event-recorder.js';
import { ReceiverAgents } from './receiver-agents.js';
import { pruneFinished } from './retention.js';
import { loadTarget, WebhookDeliverer } from './webhook-deliverer.js';

export interface EventDeliveryDeps {
  config: Config;
  store: Store;
  log: Logger;
  clock: () => number;
  secret: string;
  random?: () => number;
  wallClock?: () => number;
  lookup?: LookupFn;
}

export interface TestDeliveryResult {
  status: number | null;
  durationMs: number;
  error?: string;
  deliveryId: string;
  eventId: string;
}

const PRUNE_EVERY_MS = 60 * 60 * 1000;
const WORKER_CONNECTIONS = 6;

/**
 * Everything that gets events out of the gateway: the recorder that writes them into the outbox,
 * the webhook and e-mail workers that deliver them, "Test incoming", and retention.
 */
export class EventDelivery {
  readonly recorder: OutboxEventRecorder;
  /** The pull queue's long-polls, woken when the recorder appends to an account's event log. */
  readonly logWaiters = new EventLogWaiters();
  readonly webhookWorker: OutboxWorker;
  readonly emailWorker: OutboxWorker | undefined;
  readonly box: SecretBox;
  private readonly agents: ReceiverAgents;
  private readonly deliverer: WebhookDeliverer;
  private readonly mailer: EmailSender | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;

  /** The workers' own connections to the database (see Store.withOwnConnections). */
  private readonly store: Store;

  constructor(private readonly deps: EventDeliveryDeps) {
    const { config, log, clock } = deps;
    // A burst of events of one account queues its transactions on the account's event log lock,
    // each holding a connection of the main pool: the deliveries must not wait behind them.
    const store = (this.store = deps.store.withOwnConnections(WORKER_CONNECTIONS));
    this.box = new SecretBox(deps.secret);
    this.agents = new ReceiverAgents(config.webhooks.timeoutMs);
    this.deliverer = new WebhookDeliverer({ store, config, box: this.box, agents: this.agents, log, clock, random: deps.random, wallClock: deps.wallClock, lookup: deps.lookup });
    // Renewed every quarter of its length while a job is in hand, so it only has to outlast a
    // pause of the worker's loop; a dead process's claims expire after it.
    const lockMs = config.outboxLockMs;
    this.webhookWorker = new OutboxWorker({
      store,
      kind: 'webhook',
      handle: this.deliverer.handle,
      log: log.child({ component: 'webhooks' }),
      clock,
      perAccount: config.webhooks.concurrencyPerAccount,
      lockMs,
      claimed: this.deliverer.prefetch,
    });
    if (config.smtpUrl) {
      this.mailer = new EmailSender({ store, smtpUrl: config.smtpUrl, from: config.mailFrom, log: log.child({ component: 'email' }), clock, random: deps.random });
      this.emailWorker = new OutboxWorker({ store, kind: 'email', handle: this.mailer.handle, log: log.child({ component: 'email' }), clock, perAccount: 1, lockMs, idlePollMs: 1000 });
    }
    this.recorder = new OutboxEventRecorder({
      config,
      dialect: store.dialect,
      queued: (kind) => setImmediate(() => (kind === 'webhook' ? this.webhookWorker : this.emailWorker)?.kick()),
      logged: (accountId) => setImmediate(() => this.logWaiters.notify(accountId)),
      announce: (tx, accountId) => announceEventLog(store, tx, accountId),
    });
  }

  async start(): Promise<void> {
    const { log, config } = this.deps;
    const store = this.store;
    // On SQLite one process runs, so every lock left at start is a dead process's.
    if (store.dialect === 'sqlite') {
      await releaseAllLocks(store, 'webhook');
      await releaseAllLocks(store, 'email');
    }
    if (!config.smtpUrl) log.info('SMTP_URL is not set: disconnect e-mails are off');
    await this.logWaiters.listen(store);
    this.webhookWorker.start();
    this.emailWorker?.start();
    void this.prune();
    this.pruneTimer = setInterval(() => void this.prune(), PRUNE_EVERY_MS);
    this.pruneTimer.unref();
  }

  async stop(): Promise<void> {
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    this.logWaiters.stopListeningElsewhere();
    await Promise.all([this.webhookWorker.stop(), this.emailWorker?.stop()]);
    this.deliverer.forgetPrefetched();
    this.mailer?.close();
    await this.agents.close();
  }

  /** Work may be due (after a redelivery, or a test moved the clock). */
  kick(): void {
    this.webhookWorker.kick();
    this.emailWorker?.kick();
  }

  async prune(): Promise<{ deliveries: number; emails: number }> {
    try {
      return await pruneFinished(this.store, this.deps.clock(), this.deps.config.webhooks.retentionDays);
    } catch (error) {
      this.deps.log.error({ err: coerceError(error) }, 'could not prune old webhook deliveries and e-mails');
      return { deliveries: 0, emails: 0 };
    }
  }

  /**
   * "Test incoming": a signed `message.received` with `"test": true`, sent now, while the request
   * waits. It is logged as a delivery (so it can be redelivered) but not retried: the answer
   * already tells the user what happened. A 2xx also lifts a stop left by an earlier 410.
   */
  async sendTest(account: Account): Promise<TestDeliveryResult> {
    const { config, clock } = this.deps;
    const store = this.store;
    requireWebhookPlan(config, account);
    const target = await loadTarget(store.db, account.id);
    if (!target?.url || !target.sealedSecret) {
      throw new AppError('invalid_parameter', 'No webhook URL is set: set one with PATCH /api/v1/settings {"webhookUrl": "https://…"} first.');
    }
    const now = clock();
    const event: GatewayEvent = {
      event: 'message.received',
      test: true,
      message: {
        id: `TEST${randomBase62(16).toUpperCase()}`,
        from: '12125551234',
        pushName: 'MessageAPI test',
        type: 'text',
        text: 'This is a test webhook from MessageAPI.',
        isGroup: false,
        groupId: null,
        participant: null,
        timestamp: new Date(now).toISOString(),
      },
    };
    const delivery = await recordTestDelivery(
      store,
      { accountId: account.id, eventId: newId('evt'), event: event.event, payload: webhookBody(event, now), now },
      config.accountLimits.webhookTestsPerMinute,
    );
    const result = await this.deliverer.attempt(target.url, this.box.decrypt(target.sealedSecret), delivery);
    const at = clock();
    await store.write(async (tx) => {
      await recordAttempt(
        tx,
        delivery.id,
        { at, url: target.url!, status: result.status, error: result.error, response: result.response, durationMs: result.durationMs },
        { status: result.ok ? 'delivered' : 'dead', nextAttemptAt: null },
      );
      if (result.ok) await tx.deleteFrom('webhook_retired_urls').where('account_id', '=', account.id).execute();
    });
    return {
      status: result.status,
      durationMs: result.durationMs,
      ...(result.error === null ? {} : { error: result.error }),
      deliveryId: delivery.id,
      eventId: delivery.event_id,
    };
  }
}
