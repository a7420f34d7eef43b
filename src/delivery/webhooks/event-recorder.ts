import type { Config, PlanName } from '../../config.js';
import { appendEvents } from '../../core/event-log.js';
import { mediaOf, type EventRecorder, type GatewayEvent } from '../../core/events.js';
import { chosenEvents } from '../../core/webhook-events.js';
import { newId } from '../../core/ids.js';
import { queueDelivery, webhookBody } from '../../core/webhook-deliveries.js';
import { queryTemplate } from '../../store/query-template.js';
import { afterCommit } from '../../store/after-commit.js';
import type { Dialect } from '../../store/dialect.js';
import type { Tx } from '../../store/store.js';
import { queueDisconnectEmail, queueEmail } from '../email/email-outbox.js';
import { renderRestrictionEmail } from '../email/restriction-email.js';

/** What decides where an account's events go; read inside the event's transaction. */
const selectEventTargets = queryTemplate((db, a: { accountId: string }) =>
  db
    .selectFrom('accounts')
    .leftJoin('webhook_retired_urls', 'webhook_retired_urls.account_id', 'accounts.id')
    .select(['accounts.plan', 'accounts.email', 'accounts.webhook_url', 'accounts.webhook_secret', 'accounts.disconnect_email', 'accounts.webhook_events', 'webhook_retired_urls.url as retired_url'])
    .where('accounts.id', '=', a.accountId),
);

export interface OutboxRecorderDeps {
  config: Config;
  dialect: Dialect;
  /** Told after a job was written, so its worker claims it without waiting for the next poll. */
  queued(kind: 'webhook' | 'email'): void;
  /** Told after events were appended to an account's log (before the commit: a waiter reads again until it sees them). */
  logged?(accountId: string): void;
  /** In the transaction of an append: tells the other processes sharing the database. */
  announce?(tx: Tx, accountId: string): Promise<void>;
}

/**
 * The gateway's EventRecorder: inside the transaction of the change that caused the event, it
 * writes a webhook delivery (Unlimited accounts with a URL that has not answered 410) and, for a
 * real disconnect, the e-mail (every plan, when the account wants it and SMTP is configured).
 * Both commit with the change or not at all.
 */
export class OutboxEventRecorder implements EventRecorder {
  constructor(private readonly deps: OutboxRecorderDeps) {}

  async record(tx: Tx, accountId: string, event: GatewayEvent, now: number): Promise<void> {
    await this.recordAll(tx, accountId, [event], now);
  }

  /** Several events of one account (a dispatcher batch): the account is read once. */
  async recordAll(tx: Tx, accountId: string, events: GatewayEvent[], now: number): Promise<void> {
    const { config } = this.deps;
    const row = (await selectEventTargets(tx, { accountId })).rows[0];
    if (!row) return;
    // The pull queue follows the webhooks' plan rule (SPEC §3), with or without a webhook URL.
    const receivesEvents = config.plans[row.plan as PlanName]?.webhooks === true;
    const webhooks = receivesEvents && row.webhook_url !== null && row.webhook_secret !== null && row.retired_url !== row.webhook_url;
    let queuedWebhook = false;
    let queuedEmail = false;
    const logged: Array<{ id: string; event: string; body: string; mediaId: string | null }> = [];
    // The account's choice of events (SPEC §11) holds for its webhook and its pull queue alike.
    const chosen = chosenEvents(row.webhook_events);
    for (const event of events) {
      if (event.event === 'session.disconnected' && config.smtpUrl && row.disconnect_email === 1) {
        await queueDisconnectEmail(tx, accountId, row.email, { phone: event.phone, reason: event.reason, at: now, publicUrl: config.publicUrl });
        queuedEmail = true;
      }
      // A restriction is e-mailed whatever the account chose for its webhook (as a disconnect is).
      if (event.event === 'account.restricted' && config.smtpUrl && row.disconnect_email === 1) {
        await queueEmail(tx, accountId, row.email, renderRestrictionEmail({ until: event.restriction.until, at: now, publicUrl: config.publicUrl }), now);
        queuedEmail = true;
      }
      const test = event.event === 'message.received' && event.test === true;
      if (!test && !chosen.has(event.event)) continue;
      const eventId = newId('evt');
      const body = webhookBody(event, now);
      // The pull queue holds an event's media only when no webhook delivery does (see media-retention.ts).
      if (receivesEvents) logged.push({ id: eventId, event: event.event, body, mediaId: webhooks ? null : mediaOf(event) });
      if (webhooks) {
        await queueDelivery(tx, { accountId, eventId, event: event.event, payload: body, test, now, mediaId: mediaOf(event) });
        queuedWebhook = true;
      }
    }
    // The announcement is sent at the commit wherever it stands: before the append, so that the
    // append, which takes the account's log lock until the commit, is the last statement.
    if (logged.length > 0) await this.deps.announce?.(tx, accountId);
    await appendEvents(tx, this.deps.dialect, accountId, logged, now);
    // Waiters (pull queue, stream) and workers woken before the commit would find nothing new.
    if (logged.length > 0) afterCommit(tx, () => this.deps.logged?.(accountId));
    if (queuedWebhook) afterCommit(tx, () => this.deps.queued('webhook'));
    if (queuedEmail) afterCommit(tx, () => this.deps.queued('email'));
  }
}
