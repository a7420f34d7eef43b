import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger } from 'pino';
import { coerceError } from '../../core/errors.js';
import { STORED_TEXT_LIMITS, storableText } from '../../core/storable-text.js';
import { completeJob, rescheduleJob, type OutboxJob } from '../../core/outbox.js';
import { WEBHOOK_RETRY_SCHEDULE, nextRetryDelay, type RetrySchedule } from '../../core/retry-schedule.js';
import type { Store } from '../../store/store.js';

export interface EmailSenderDeps {
  store: Store;
  smtpUrl: string;
  from: string;
  log: Logger;
  clock: () => number;
  random?: () => number;
  schedule?: RetrySchedule;
}

/**
 * Runs one e-mail outbox job through SMTP. A failure (server down, refused) is retried on the
 * webhook schedule, then the mail is marked dead; it stays in the table for inspection until
 * retention prunes it.
 */
export class EmailSender {
  private readonly transport: Transporter;

  constructor(private readonly deps: EmailSenderDeps) {
    // Settings in SMTP_URL's query (e.g. ?secure=true) still apply; these bound a hung server.
    this.transport = nodemailer.createTransport({ url: deps.smtpUrl, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 } as never);
  }

  readonly handle = async (job: OutboxJob): Promise<void> => {
    const { store } = this.deps;
    const mail = await store.db.selectFrom('emails').selectAll().where('id', '=', job.ref).executeTakeFirst();
    if (!mail || mail.status !== 'pending') {
      await store.write((tx) => completeJob(tx, job.seq));
      return;
    }
    let error: string | null = null;
    try {
      await this.transport.sendMail({
        from: this.deps.from,
        to: mail.to_address,
        subject: mail.subject,
        text: mail.text_body,
        html: mail.html_body,
        // The same id on every attempt lets mail systems drop a duplicate after a crash.
        messageId: `<${mail.id}@messageapi>`,
      });
    } catch (e) {
      error = storableText(coerceError(e).message, STORED_TEXT_LIMITS.error);
    }
    const now = this.deps.clock();
    const attempts = mail.attempts + 1;
    if (error === null) {
      await store.write(async (tx) => {
        await tx.updateTable('emails').set({ status: 'sent', attempts, last_error: null, sent_at: now, finished_at: now }).where('id', '=', mail.id).execute();
        await completeJob(tx, job.seq);
      });
      return;
    }
    const delay = nextRetryDelay(this.deps.schedule ?? WEBHOOK_RETRY_SCHEDULE, attempts, this.deps.random);
    this.deps.log.warn({ accountId: mail.account_id, attempts, error }, delay === null ? 'disconnect e-mail given up' : 'disconnect e-mail failed; will retry');
    await store.write(async (tx) => {
      if (delay === null) {
        await tx.updateTable('emails').set({ status: 'dead', attempts, last_error: error, finished_at: now }).where('id', '=', mail.id).execute();
        await completeJob(tx, job.seq);
      } else {
        await tx.updateTable('emails').set({ attempts, last_error: error }).where('id', '=', mail.id).execute();
        await rescheduleJob(tx, job.seq, now + Math.max(delay, 1_000), error, true);
      }
    });
  };

  close(): void {
    this.transport.close();
  }
}
