import type { ContactCard, LocationContent, MediaSummary, MessageContent } from './message-content.js';

/** What a message carried, as the API shows it (message look-ups, the list, sandbox records). */
export interface ContentSummary {
  text: string | null;
  fileName: string | null;
  /** For a received message, `id` names its file for GET /api/v1/media/:id. */
  media: (MediaSummary & { id?: string }) | null;
  gif?: boolean;
  voice?: boolean;
  location?: LocationContent;
  contacts?: ContactCard[];
  poll?: { question: string; options: string[]; multipleAnswers: boolean };
  reaction?: { messageId: string; emoji: string };
  /** An edit's or a delete's target. */
  edit?: { messageId: string };
  revoke?: { messageId: string };
  replyTo?: { messageId: string; type: string; text: string | null };
  /** The message a received one replies to. */
  quoted?: { id: string; messageId: string | null; type: string | null; text: string | null };
  mediaError?: string;
  durationSeconds?: number;
  mentions?: string[];
  mentionAll?: boolean;
  /** Sandbox records of presence and read marks (no message of the log). */
  presence?: string;
  read?: { messageIds: string[] | null };
}

export function contentSummary(kind: string, text: string | null, filename: string | null, content: MessageContent): ContentSummary {
  const media = content.media ? (content.mediaId ? { ...content.media, id: content.mediaId } : content.media) : null;
  const fileName = content.inbound ? (content.mediaFileName ?? null) : kind === 'document' ? filename : null;
  const summary: ContentSummary = { text, fileName, media };
  if (content.quoted) summary.quoted = { id: content.quoted.waMessageId, messageId: content.quoted.messageId, type: content.quoted.type, text: content.quoted.text };
  if (content.mediaError) summary.mediaError = content.mediaError;
  if (content.durationSeconds != null) summary.durationSeconds = content.durationSeconds;
  if (kind === 'video' && content.gif) summary.gif = true;
  if (kind === 'audio') summary.voice = content.voice === true;
  if (content.location) summary.location = content.location;
  if (content.contacts) summary.contacts = content.contacts;
  if (content.poll) summary.poll = { question: content.poll.question, options: content.poll.options, multipleAnswers: content.poll.multipleAnswers };
  if (content.reaction) summary.reaction = { messageId: content.reaction.target.messageId, emoji: content.reaction.emoji };
  if (content.edit) summary.edit = { messageId: content.edit.target.messageId };
  if (content.revoke) summary.revoke = { messageId: content.revoke.target.messageId };
  if (content.replyTo) summary.replyTo = { messageId: content.replyTo.messageId, type: content.replyTo.kind, text: content.replyTo.text };
  if (content.mentions && content.mentions.length > 0) summary.mentions = content.mentions;
  if (content.mentionAll) summary.mentionAll = true;
  return summary;
}
