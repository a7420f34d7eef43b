import type { proto, WAMediaUploadFunction } from 'baileys';
import { isMediaKind, parseContent, type MessageKind } from '../../core/message-content.js';
import { buildMessage, messageFromLog } from './build-message.js';

/** A row of our message log, as much of it as a message is rebuilt from. */
export interface LoggedMessage {
  id: string;
  account_id: string;
  recipient: string;
  kind: string;
  text: string | null;
  filename: string | null;
  wa_message_id: string;
  created_at: number;
  content: string | null;
}

const noUpload: WAMediaUploadFunction = async () => {
  throw new Error('a message rebuilt from the log uploads nothing');
};

/**
 * The message WhatsApp asks for again in a retry request ("waiting for this message"), rebuilt from
 * our log: everything but media is all in the log (a location, contacts, a poll under its stored
 * secret, a reply's quote, mentions, a reaction, an edit or a delete for its target), so it goes
 * out again as itself; media bytes are not kept, so media (and a plain text) get messageFromLog's
 * stand-in. `jid` is the chat as the request names it, `userJid` our own.
 */
export async function rebuildFromLog(row: LoggedMessage, jid: string, userJid: string | undefined): Promise<proto.IMessage> {
  const content = parseContent(row.content);
  const plainText = row.kind === 'text' && !content.replyTo && !content.mentions?.length && !content.mentionAll;
  if (isMediaKind(row.kind) || plainText || !userJid) return messageFromLog(row);
  const built = await buildMessage(
    jid,
    {
      id: row.id,
      accountId: row.account_id,
      recipient: row.recipient,
      kind: row.kind as MessageKind,
      text: row.text,
      filename: row.filename,
      waMessageId: row.wa_message_id,
      createdAt: row.created_at,
      content,
    },
    { userJid, upload: noUpload },
  );
  return built.message!;
}
