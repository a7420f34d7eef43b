import { createHash } from 'node:crypto';
import { decryptPollVote, jidNormalizedUser, type proto } from 'baileys';
import { parseContent } from '../../core/message-content.js';
import type { Store } from '../../store/store.js';

/**
 * The option names a vote on one of the account's polls chose. A vote is encrypted with the poll's
 * secret (kept in the poll's log row) and names options by the SHA-256 of their text. Null: not
 * our poll, or a vote that does not decrypt.
 */
export async function decryptVote(
  store: Store,
  accountId: string,
  input: { pollWaMessageId: string; vote: proto.Message.IPollEncValue; ownJid: string | undefined; voterJid: string },
): Promise<string[] | null> {
  const row = await store.db.selectFrom('messages').select(['content', 'kind']).where('account_id', '=', accountId).where('wa_message_id', '=', input.pollWaMessageId).where('direction', '=', 'out').executeTakeFirst();
  const poll = row?.kind === 'poll' ? parseContent(row.content).poll : undefined;
  if (!poll || !poll.secret || !input.ownJid) return null;
  try {
    const decrypted = decryptPollVote(input.vote, {
      pollEncKey: Buffer.from(poll.secret, 'base64'),
      pollCreatorJid: jidNormalizedUser(input.ownJid),
      pollMsgId: input.pollWaMessageId,
      voterJid: jidNormalizedUser(input.voterJid),
    });
    const byHash = new Map(poll.options.map((o) => [createHash('sha256').update(o).digest('hex'), o]));
    return (decrypted.selectedOptions ?? []).map((h) => byHash.get(Buffer.from(h).toString('hex'))).filter((o): o is string => o !== undefined);
  } catch {
    return null;
  }
}
