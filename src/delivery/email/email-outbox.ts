import type { Tx } from '../../store/store.js';
import { newId } from '../../core/ids.js';
import { enqueue } from '../../core/outbox.js';
import { renderDisconnectEmail, type DisconnectEmailInput } from './disconnect-email.js';

/**
 * Writes a disconnect e-mail and its outbox job in the caller's transaction. The mail is rendered
 * now, so every retry sends the same text (and the same Message-ID).
 */
export async function queueDisconnectEmail(tx: Tx, accountId: string, to: string, input: DisconnectEmailInput): Promise<string> {
  const id = newId('eml');
  const mail = renderDisconnectEmail(input);
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
      created_at: input.at,
      sent_at: null,
      finished_at: null,
    })
    .execute();
  await enqueue(tx, { kind: 'email', accountId, ref: id, runAt: input.at, now: input.at });
  return id;
}
