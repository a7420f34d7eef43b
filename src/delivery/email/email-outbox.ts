import type { Tx } from '../../store/store.js';
import { newId } from '../../core/ids.js';
import { enqueue } from '../../core/outbox.js';
import { renderDisconnectEmail, type DisconnectEmailInput, type RenderedEmail } from './disconnect-email.js';

/**
 * Writes a disconnect e-mail and its outbox job in the caller's transaction. The mail is rendered
 * now, so every retry sends the same text (and the same Message-ID).
 */
export async function queueDisconnectEmail(tx: Tx, accountId: string, to: string, input: DisconnectEmailInput): Promise<string> {
  return queueEmail(tx, accountId, to, renderDisconnectEmail(input), input.at);
}

/** Any rendered e-mail with its outbox job, in the caller's transaction. */
export async function queueEmail(tx: Tx, accountId: string, to: string, mail: RenderedEmail, at: number): Promise<string> {
  const id = newId('eml');
  await tx
    .insertInto('emails')
    .values({
      id,
      account_id: accountId,
      to_address: to,
      subject: mail.subject,
      text_body: mail.text,
      html_body: mail.html,
      status: 'pending',
      attempts: 0,
      last_error: null,
      created_at: at,
      sent_at: null,
      finished_at: null,
    })
    .execute();
  await enqueue(tx, { kind: 'email', accountId, ref: id, runAt: at, now: at });
  return id;
}
