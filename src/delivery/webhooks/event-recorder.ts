import type { Config, PlanName } from '../../config.js';
import { appendEvents } from '../../core/event-log.js';
import type { EventRecorder, GatewayEvent } from '../../core/events.js';
import { newId } from '../../core/ids.js';
import { queueDelivery, webhookBody } from '../../core/webhook-deliveries.js';
import { queryTemplate } from '../../store/query-template.js';
import { afterCommit } from '../../store/after-commit.js';
import type { Tx } from '../../store/store.js';
import { queueDisconnectEmail } from '../email/email-outbox.js';

/** What decides where an account's events go; read inside the event's transaction. */
const selectEventTargets = queryTemplate((db, a: { accountId: string }) =>
  db
    .selectFrom('accounts')
    .leftJoin('webhook_retired_urls', 'webhook_retired_urls.account_id', 'accounts.id')
    .select(['accounts.plan', 'accounts.email', 'accounts.webhook_url', 'accounts.webhook_secret', 'accounts.disconnect_email', 'webhook_retired_urls.url as retired_url'])
    .where('accounts.id', '=', a.accountId),
);

export interface OutboxRecorderDeps {
  config: Config;
  /** Told after a job was written, so its worker claims it without waiting for the next poll. */
  queued(kind: 'webhook' | 'email'): void;
  /** Told after events were appended to an account's log (before the commit: a waiter reads again until it sees them). */
  logged?(accountId: string): void;
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
    const logged: Array<{ id: string; event: string; body: string }> = [];
    for (const event of events) {
      const eventId = newId('evt');
      const body = webhookBody(event, now);
      if (receivesEvents) logged.push({ id: eventId, event: event.event, body });
      if (webhooks) {
        const test = event.event === 'message.received' && event.test === true;
        await queueDelivery(tx, { accountId, eventId, event: event.event, payload: body, test, now });
        queuedWebhook = true;
      }
      if (event.event === 'session.disconnected' && config.smtpUrl && row.disconnect_email === 1) {
        await queueDisconnectEmail(tx, accountId, row.email, { phone: event.phone, reason: event.reason, at: now, publicUrl: config.publicUrl });
        queuedEmail = true;
      }
    }
    await appendEvents(tx, accountId, logged, now);
    // Waiters (pull queue, stream) and workers woken before the commit would find nothing new.
    if (logged.length > 0) afterCommit(tx, () => this.deps.logged?.(accountId));
    if (queuedWebhook) afterCommit(tx, () => this.deps.queued('webhook'));
    if (queuedEmail) afterCommit(tx, () => this.deps.queued('email'));
  }
}
