import type { MessageContentView, MessageView } from '../api';

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** One line per message for the table: what a person would see in the chat. */
export function previewOf(type: string, c: MessageContentView | null | undefined): string {
  if (!c) return '';
  if (c.reaction) return c.reaction.emoji ? `Reacted ${c.reaction.emoji}` : 'Removed a reaction';
  if (c.edit) return `Edited to: ${c.text ?? ''}`;
  if (c.revoke) return 'Deleted for everyone';
  if (c.location) return `📍 ${c.location.name ?? `${c.location.latitude}, ${c.location.longitude}`}`;
  if (c.contacts) return `👤 ${c.contacts.map((x) => x.name).join(', ')}`;
  if (c.poll) return `📊 ${c.poll.question} (${c.poll.options.length} options)`;
  const label = type === 'audio' && c.voice ? '🎤 Voice note' : type === 'video' && c.gif ? 'GIF' : type === 'text' ? '' : type[0]!.toUpperCase() + type.slice(1);
  const parts = [label, c.fileName ?? '', c.text ?? ''].filter((p) => p !== '');
  return parts.join(' · ');
}

/** The whole message, shown when its row is opened. */
export function MessageDetails({ message }: { message: MessageView }) {
  const c = message.content;
  if (!c) return <p>No content recorded for this message.</p>;
  return (
    <dl class="message-details" data-testid="message-details">
      {c.text !== null && (
        <>
          <dt>{message.type === 'text' || message.type === 'edit' ? 'Text' : 'Caption'}</dt>
          <dd style="white-space: pre-wrap">{c.text}</dd>
        </>
      )}
      {c.fileName && (
        <>
          <dt>File name</dt>
          <dd>{c.fileName}</dd>
        </>
      )}
      {c.media && (
        <>
          <dt>Media</dt>
          <dd>
            {c.media.mimetype}, {size(c.media.size)} <code title="SHA-256">{c.media.sha256.slice(0, 16)}…</code>
          </dd>
        </>
      )}
      {c.location && (
        <>
          <dt>Location</dt>
          <dd>
            {c.location.latitude}, {c.location.longitude}
            {c.location.name && ` — ${c.location.name}`}
            {c.location.address && ` (${c.location.address})`}
          </dd>
        </>
      )}
      {c.contacts && (
        <>
          <dt>Contacts</dt>
          <dd>
            <ul>
              {c.contacts.map((x) => (
                <li key={x.name}>
                  {x.name}: {x.phones.join(', ')}
                  {x.email && `, ${x.email}`}
                  {x.organization && ` (${x.organization})`}
                </li>
              ))}
            </ul>
          </dd>
        </>
      )}
      {c.poll && (
        <>
          <dt>Poll{c.poll.multipleAnswers ? ' (several answers)' : ''}</dt>
          <dd>
            {c.poll.question}
            <ol>
              {c.poll.options.map((o) => (
                <li key={o}>{o}</li>
              ))}
            </ol>
          </dd>
        </>
      )}
      {(c.reaction ?? c.edit ?? c.revoke) && (
        <>
          <dt>Acts on</dt>
          <dd>
            <code>{(c.reaction ?? c.edit ?? c.revoke)!.messageId}</code>
          </dd>
        </>
      )}
      {c.replyTo && (
        <>
          <dt>Replying to</dt>
          <dd>
            <code>{c.replyTo.messageId}</code> {c.replyTo.text ?? c.replyTo.type}
          </dd>
        </>
      )}
      {(c.mentions || c.mentionAll) && (
        <>
          <dt>Mentions</dt>
          <dd>{[...(c.mentionAll ? ['@all'] : []), ...(c.mentions ?? [])].join(', ')}</dd>
        </>
      )}
      {message.editedAt && (
        <>
          <dt>Edited</dt>
          <dd>{message.editedAt}</dd>
        </>
      )}
      {message.revokedAt && (
        <>
          <dt>Deleted for everyone</dt>
          <dd>{message.revokedAt}</dd>
        </>
      )}
    </dl>
  );
}
