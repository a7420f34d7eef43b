import type { IncomingChange } from './driver-port.js';
import type { GatewayEvent } from './events.js';
import type { InboundDeps } from './inbound-deps.js';
import { senderFields } from './inbound-sender.js';
import { withKnownNumber } from './lid-mappings.js';
import { parseContent } from './message-content.js';
import { STORED_TEXT_LIMITS, storableText } from './storable-text.js';

/**
 * Something done to an earlier message: a reaction (`message.reaction`, an empty emoji is its
 * removal), an edit (`message.edited`) or a delete for everyone (`message.revoked`) of a received
 * message, which also change the stored copy, and a vote on one of the account's polls
 * (`poll.vote`, with the option names). Each event is written in the transaction of its change.
 */
export async function recordIncomingChange(deps: InboundDeps, accountId: string, change: IncomingChange, now: number): Promise<void> {
  const timestamp = new Date(change.at).toISOString();
  await deps.store.write(async (tx) => {
    const sender = senderFields(await withKnownNumber(tx, accountId, change, now));
    const findTarget = (waMessageId: string, direction?: 'in' | 'out') => {
      let q = tx.selectFrom('messages').select(['id', 'kind', 'text', 'content', 'sender']).where('account_id', '=', accountId).where('wa_message_id', '=', waMessageId);
      if (direction) q = q.where('direction', '=', direction);
      return q.executeTakeFirst();
    };
    let event: GatewayEvent | null = null;
    switch (change.kind) {
      case 'reaction': {
        const target = await findTarget(change.targetWaMessageId);
        const emoji = storableText(change.emoji, 32);
        event = { event: 'message.reaction', reaction: { id: change.targetWaMessageId, messageId: target?.id ?? null, emoji, removed: emoji === '', ...sender, timestamp } };
        break;
      }
      case 'edit': {
        const text = storableText(change.text, STORED_TEXT_LIMITS.text);
        const target = await findTarget(change.targetWaMessageId, 'in');
        // Only its author edits a message: an edit naming someone else's message changes nothing.
        const mine = target !== undefined && target.sender === sender.from;
        if (mine) await tx.updateTable('messages').set({ text, edited_at: change.at }).where('id', '=', target.id).execute();
        event = { event: 'message.edited', message: { id: change.targetWaMessageId, messageId: mine ? target.id : null, text, ...sender, timestamp } };
        break;
      }
      case 'revoke': {
        const target = await findTarget(change.targetWaMessageId, 'in');
        const mine = target !== undefined && target.sender === sender.from;
        if (mine) await tx.updateTable('messages').set({ revoked_at: change.at }).where('id', '=', target.id).execute();
        event = { event: 'message.revoked', message: { id: change.targetWaMessageId, messageId: mine ? target.id : null, ...sender, timestamp } };
        break;
      }
      case 'poll_vote': {
        const poll = await findTarget(change.pollWaMessageId, 'out');
        const content = poll && poll.kind === 'poll' ? parseContent(poll.content).poll : undefined;
        // Votes on polls the account did not send are not ours to report.
        if (!poll || !content) return;
        const known = new Set(content.options);
        const selectedOptions = change.selectedOptions.filter((o) => known.has(o));
        event = { event: 'poll.vote', vote: { pollId: change.pollWaMessageId, messageId: poll.id, question: content.question, selectedOptions, ...sender, timestamp } };
        break;
      }
    }
    await deps.events.record(tx, accountId, event, now);
  });
}
