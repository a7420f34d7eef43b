import { useState } from 'preact/hooks';
import { api, type MessageView } from '../api';
import { Card, Empty, Notice, PageHeader, Skeleton, errorText, formatTime } from '../components/ui';
import { previewOf } from '../components/message-preview';
import { useLoad } from '../session';

const PAGE = 100;

interface Chat {
  chat: string;
  isGroup: boolean;
  messages: MessageView[];
}

/** Received messages grouped by chat, the chat with the newest message first (the list is already newest first). */
function byChat(messages: MessageView[]): Chat[] {
  const chats = new Map<string, Chat>();
  for (const m of messages) {
    let chat = chats.get(m.recipient);
    if (!chat) {
      chat = { chat: m.recipient, isGroup: m.recipient.endsWith('@g.us'), messages: [] };
      chats.set(m.recipient, chat);
    }
    chat.messages.push(m);
  }
  return [...chats.values()];
}

/** What a received file looks like here: images and stickers shown, audio and video playable, anything else a download. */
function MediaPreview({ message }: { message: MessageView }) {
  const media = message.content?.media;
  if (!media?.id) {
    return message.content?.mediaError ? <p class="row-error">{message.content.mediaError}</p> : null;
  }
  const src = `/api/v1/media/${encodeURIComponent(media.id)}`;
  const name = message.content?.fileName ?? `${message.type}-${media.id}`;
  if (message.type === 'image' || message.type === 'sticker') {
    return <img class={message.type === 'sticker' ? 'inbox-sticker' : 'inbox-image'} src={src} alt={message.content?.text || `${message.type === 'sticker' ? 'Sticker' : 'Image'} from ${message.pushName ?? message.from}`} data-testid="inbox-image" />;
  }
  if (message.type === 'audio') return <audio class="inbox-audio" controls preload="none" src={src} aria-label={`Voice note from ${message.pushName ?? message.from}`} data-testid="inbox-audio" />;
  if (message.type === 'video') return <video class="inbox-video" controls preload="none" src={src} aria-label={`Video from ${message.pushName ?? message.from}`} />;
  return (
    <a class="btn" href={src} download={name} data-testid="inbox-download">
      Download {name}
    </a>
  );
}

function ReplyBox({ chat, lastId, onSent }: { chat: string; lastId: string; onSent(): void }) {
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ tone: 'success' | 'error'; text: string } | null>(null);
  const id = `reply-${chat.replace(/[^\w]/g, '')}`;
  async function send(event: Event) {
    event.preventDefault();
    if (text.trim() === '') return;
    setBusy(true);
    setResult(null);
    try {
      await api('POST', '/api/v1/send', { recipient: chat, text, replyTo: lastId, wait: 5000 });
      setText('');
      setResult({ tone: 'success', text: 'Sent.' });
      onSent();
    } catch (error) {
      setResult({ tone: 'error', text: errorText(error) });
    } finally {
      setBusy(false);
    }
  }
  return (
    <form class="inbox-reply" onSubmit={send} data-testid="reply-form">
      <label for={id}>Reply to {chat}</label>
      <div class="inbox-reply-row">
        <textarea id={id} rows={2} value={text} onInput={(e) => setText(e.currentTarget.value)} maxLength={4096} />
        <button class="btn btn-primary" type="submit" disabled={busy || text.trim() === ''} aria-busy={busy}>
          Send
        </button>
      </div>
      {result && (
        <Notice tone={result.tone} testId="reply-result">
          {result.text}
        </Notice>
      )}
    </form>
  );
}

export function InboxPage() {
  const page = useLoad(() => api<{ messages: MessageView[]; nextCursor: string | null }>('GET', `/api/v1/messages?direction=in&limit=${PAGE}`), []);
  const chats = page.data ? byChat(page.data.messages) : [];
  return (
    <>
      <PageHeader
        title="Inbox"
        lead="Messages people sent to your number, newest first, by chat. Files are kept for a limited time (MEDIA_RETENTION_DAYS)."
        actions={
          <button class="btn" onClick={() => void (page.loading || page.reload())} aria-busy={page.loading}>
            Refresh
          </button>
        }
      />
      {page.error && <Notice tone="error">{page.error}</Notice>}
      {!page.data && !page.error && (
        <Card>
          <Skeleton lines={6} height={20} />
        </Card>
      )}
      {page.data && chats.length === 0 && (
        <Card>
          <Empty title="No messages received yet">When someone writes to your WhatsApp number, it shows here.</Empty>
        </Card>
      )}
      {chats.map((chat) => (
        <Card key={chat.chat} title={chat.isGroup ? `Group ${chat.chat}` : chat.chat} class="inbox-chat">
          <ol class="inbox-messages" data-testid="inbox-chat" data-chat={chat.chat}>
            {chat.messages.map((m) => (
              <li key={m.messageId} class="inbox-message" data-message-id={m.messageId}>
                <p class="inbox-meta">
                  <strong>{m.pushName ?? m.from}</strong> <span class="muted">{formatTime(m.sentAt ?? m.createdAt)}</span>
                  {m.revokedAt && <span class="muted"> · deleted by the sender</span>}
                  {m.editedAt && !m.revokedAt && <span class="muted"> · edited</span>}
                </p>
                {m.content?.quoted && <p class="inbox-quote">↪ {m.content.quoted.text ?? m.content.quoted.type ?? 'a message'}</p>}
                <p class="inbox-text">{previewOf(m.type, m.content) || m.type}</p>
                <MediaPreview message={m} />
              </li>
            ))}
          </ol>
          <ReplyBox chat={chat.chat} lastId={chat.messages[0]!.messageId} onSent={() => void page.reload()} />
        </Card>
      ))}
    </>
  );
}
