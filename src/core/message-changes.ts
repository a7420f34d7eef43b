import type { Tx } from '../store/store.js';
import { parseContent } from './message-content.js';
import type { MessageRow } from './messages.js';

/**
 * Once an edit or a delete-for-everyone has reached WhatsApp, the message it acted on shows it:
 * an edit replaces its text (the caption, for media) and sets `editedAt`; a delete sets `revokedAt`.
 */
export async function applySentChange(tx: Tx, row: Pick<MessageRow, 'kind' | 'content' | 'text' | 'account_id'>, at: number): Promise<void> {
  if (row.kind !== 'edit' && row.kind !== 'revoke') return;
  const content = parseContent(row.content);
  if (row.kind === 'edit' && content.edit) {
    await tx.updateTable('messages').set({ text: row.text, edited_at: at }).where('id', '=', content.edit.target.messageId).where('account_id', '=', row.account_id).execute();
  } else if (row.kind === 'revoke' && content.revoke) {
    await tx.updateTable('messages').set({ revoked_at: at }).where('id', '=', content.revoke.target.messageId).where('account_id', '=', row.account_id).execute();
  }
}
