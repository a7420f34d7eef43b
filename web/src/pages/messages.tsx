import { useState } from 'preact/hooks';
import { api, type MessageView } from '../api';
import { Pager, useCursorPages } from '../components/pager';
import { Badge, Card, Empty, Notice, PageHeader, Skeleton, formatTime } from '../components/ui';
import { useLoad, useRefreshWhile } from '../session';
import { MessageDetails, previewOf } from '../components/message-preview';

const PAGE = 25;

export function MessagesPage() {
  const [status, setStatus] = useState('');
  const [open, setOpen] = useState<string | null>(null);
  const [cancelError, setCancelError] = useState<string | null>(null);
  const pages = useCursorPages();
  const cursor = pages.cursor;
  const page = useLoad(() => {
    const query = new URLSearchParams({ limit: String(PAGE) });
    if (status) query.set('status', status);
    if (cursor) query.set('cursor', cursor);
    return api<{ messages: MessageView[]; nextCursor: string | null }>('GET', `/api/v1/messages?${query}`);
  }, [status, cursor]);
  // Pending messages turn sent or failed on their own: follow them while any is on screen.
  useRefreshWhile(page.data?.messages.some((m) => m.status === 'pending') ?? false, page.reload);
  // A scheduled or pending message can still be stopped (DELETE cancels it; one already on its way answers 409).
  const cancel = async (id: string) => {
    setCancelError(null);
    try {
      await api('DELETE', `/api/v1/messages/${encodeURIComponent(id)}`);
    } catch (error) {
      setCancelError(error instanceof Error ? error.message : String(error));
    }
    await page.reload();
  };

  return (
    <>
      <PageHeader
        title="Messages"
        lead="Everything you sent, newest first. Scheduled and pending messages can be cancelled until they go."
        actions={
          <button class="btn" onClick={() => void (page.loading || page.reload())} aria-busy={page.loading}>
            Refresh
          </button>
        }
      />
      <Card>
        <div class="toolbar">
          <label for="status-filter">Status</label>
          <select
            id="status-filter"
            value={status}
            onChange={(e) => {
              setStatus(e.currentTarget.value);
              pages.reset();
            }}
          >
            <option value="">All</option>
            <option value="scheduled">Scheduled</option>
            <option value="sent">Sent</option>
            <option value="pending">Pending</option>
            <option value="failed">Failed</option>
            <option value="cancelled">Cancelled</option>
          </select>
        </div>
        {page.error && <Notice tone="error">{page.error}</Notice>}
        {cancelError && <Notice tone="error">{cancelError}</Notice>}
        {!page.data && !page.error && <Skeleton lines={6} height={20} />}
        {page.data && page.data.messages.length === 0 && (
          <Empty title={status ? `No ${status} messages` : 'No messages yet'}>
            {status ? 'Try another filter.' : <>Send your first one: see the <a href="/quick-start">Quick start</a>.</>}
          </Empty>
        )}
        {page.data && page.data.messages.length > 0 && (
          <div class="table-wrap">
            <table class="table" data-testid="messages-table">
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Recipient</th>
                  <th scope="col">Type</th>
                  <th scope="col">Content</th>
                  <th scope="col">Status</th>
                  <th scope="col">Delivered</th>
                  <th scope="col">Read</th>
                </tr>
              </thead>
              <tbody>
                {page.data.messages.map((m) => [
                  <tr key={m.messageId} data-message-id={m.messageId}>
                    <td data-label="Time">
                      {formatTime(m.createdAt)}
                      {m.status === 'scheduled' && m.sendAt && <p class="hint">Sends at {formatTime(m.sendAt)}</p>}
                    </td>
                    <td data-label="Recipient">
                      <code>{m.recipient}</code>
                    </td>
                    <td data-label="Type">{m.type}</td>
                    <td data-label="Content">
                      <button
                        type="button"
                        class="link-button"
                        aria-expanded={open === m.messageId}
                        onClick={() => setOpen(open === m.messageId ? null : m.messageId)}
                        data-testid="message-preview"
                      >
                        {previewOf(m.type, m.content) || 'Details'}
                      </button>
                    </td>
                    <td data-label="Status">
                      <Badge value={m.status} />
                      {m.error && m.status !== 'cancelled' && <p class="row-error">{m.error}</p>}
                      {(m.status === 'scheduled' || m.status === 'pending') && (
                        <button type="button" class="btn btn-small" data-testid="cancel-message" onClick={() => void cancel(m.messageId)}>
                          Cancel
                        </button>
                      )}
                    </td>
                    <td data-label="Delivered">{formatTime(m.deliveredAt)}</td>
                    <td data-label="Read">{formatTime(m.readAt)}</td>
                  </tr>,
                  open === m.messageId && (
                    <tr key={`${m.messageId}-details`}>
                      <td colSpan={7}>
                        <MessageDetails message={m} />
                      </td>
                    </tr>
                  ),
                ])}
              </tbody>
            </table>
          </div>
        )}
        <Pager pages={pages} nextCursor={page.data?.nextCursor} previous="← Newer" next="Older →" showNumber always />
      </Card>
    </>
  );
}
