import { useState } from 'preact/hooks';
import { api, type Delivery, type Settings } from '../api';
import { Pager, useCursorPages } from '../components/pager';
import { Badge, Card, Empty, Field, Notice, PageHeader, SecretReveal, Skeleton, errorText, focusWhenShown, formatTime, planLabel } from '../components/ui';
import { useLoad, useRefreshWhile } from '../session';

type TestAnswer = { status: number | null; durationMs?: number; error?: string };

export function WebhooksPage() {
  const [url, setUrl] = useState('');
  // The field takes the saved URL as the answer arrives, before the form is drawn, so typing is never overwritten.
  const settings = useLoad(async () => {
    const answer = await api<Settings & { webhookState?: string }>('GET', '/api/v1/settings');
    setUrl(answer.webhookUrl ?? '');
    return answer;
  });
  const [secret, setSecret] = useState<string | undefined>();
  const [message, setMessage] = useState<{ tone: 'error' | 'success'; text: string } | undefined>();
  const [busy, setBusy] = useState<string | undefined>();
  const [test, setTest] = useState<TestAnswer | undefined>();
  const [deliveriesVersion, setDeliveriesVersion] = useState(0);

  const run = async (what: string, action: () => Promise<void>) => {
    setBusy(what);
    setMessage(undefined);
    try {
      await action();
    } catch (e) {
      setMessage({ tone: 'error', text: errorText(e) });
      focusWhenShown('webhook-message');
    } finally {
      setBusy(undefined);
    }
  };
  const save = (event: Event) => {
    event.preventDefault();
    void run('save', async () => {
      const answer = await api<{ webhookSecret?: string }>('PATCH', '/api/v1/settings', { webhookUrl: url.trim() === '' ? null : url.trim() });
      if (answer.webhookSecret) setSecret(answer.webhookSecret);
      setMessage({ tone: 'success', text: url.trim() ? 'Webhook URL saved.' : 'Webhook removed: no more events will be sent.' });
      await settings.reload();
      // a new secret takes focus itself (SecretReveal); otherwise the sentence saying what happened
      if (!answer.webhookSecret) focusWhenShown('webhook-message');
    });
  };
  const rotate = () =>
    run('rotate', async () => {
      setSecret((await api<{ webhookSecret: string }>('POST', '/api/v1/webhooks/secret')).webhookSecret);
      await settings.reload();
    });
  const sendTest = () =>
    run('test', async () => {
      setTest(undefined);
      setTest(await api<TestAnswer>('POST', '/api/v1/webhooks/test'));
      setDeliveriesVersion((v) => v + 1);
      focusWhenShown('test-result');
    });

  const s = settings.data;
  const restricted = settings.code === 'plan_restriction' || (s !== undefined && s.plan !== 'unlimited');

  return (
    <>
      <PageHeader title="Webhooks" lead="Get a signed POST when a message arrives, is sent or fails, and when WhatsApp disconnects." />
      {settings.error && settings.code !== 'plan_restriction' && <Notice tone="error">{settings.error}</Notice>}
      {!s && !settings.error && (
        <Card>
          <Skeleton lines={4} />
        </Card>
      )}
      {s && restricted && (
        <Card>
          <Empty title="Webhooks need the Unlimited plan">You are on {planLabel(s.plan)}. Ask the operator of this server to move you to Unlimited.</Empty>
        </Card>
      )}
      {s && !restricted && (
        <>
          {message && (
            <Notice tone={message.tone} testId="webhook-message" id="webhook-message">
              {message.text}
            </Notice>
          )}
          {secret && (
            <SecretReveal title="Signing secret" value={secret} testId="webhook-secret">
              Shown only now. Your receiver verifies each request with it (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature).
            </SecretReveal>
          )}
          {s.webhookState === 'stopped' && <Notice tone="warn">Your receiver answered 410 Gone, so deliveries stopped. Save the URL again to resume.</Notice>}
          <div class="grid grid-2">
            <Card title="Endpoint">
              <form onSubmit={save}>
                <Field label="Webhook URL" id="webhook-url" hint="https://… on a public address. Leave empty to stop webhooks. Addresses on this machine or a private network are refused unless the server runs with ALLOW_PRIVATE_URLS=true (the operator's switch, for tests).">
                  <input id="webhook-url" type="url" inputMode="url" placeholder="https://example.com/whatsapp-webhook" value={url} onInput={(e) => setUrl(e.currentTarget.value)} />
                </Field>
                <div class="button-row">
                  <button class="btn btn-primary" type="submit" disabled={busy === 'save'}>
                    {busy === 'save' ? 'Saving…' : 'Save'}
                  </button>
                </div>
              </form>
              <dl class="facts">
                <dt>Signing secret</dt>
                <dd>
                  {s.webhookSecretPrefix ? <code>{s.webhookSecretPrefix}…</code> : <span class="hint">Made when you save a URL</span>}{' '}
                  {s.webhookSecretPrefix && (
                    <button class="btn btn-small" onClick={() => void rotate()} disabled={busy === 'rotate'}>
                      Rotate secret
                    </button>
                  )}
                </dd>
              </dl>
            </Card>
            <Card title="Test incoming">
              <p>Sends a signed <code>message.received</code> with <code>"test": true</code> to your URL now, and shows what your receiver answered.</p>
              <button class="btn" onClick={() => void sendTest()} disabled={!s.webhookUrl || busy === 'test'} data-testid="test-incoming">
                {busy === 'test' ? 'Sending…' : 'Test incoming'}
              </button>
              {!s.webhookUrl && <p class="hint">Save a URL first.</p>}
              {test && (
                <div data-testid="test-result" id="test-result" tabIndex={-1}>
                  {test.status !== null ? (
                    <Notice tone={test.status >= 200 && test.status < 300 ? 'success' : 'error'}>
                      Your receiver answered <strong>HTTP {test.status}</strong>
                      {test.durationMs !== undefined ? ` in ${test.durationMs} ms` : ''}.
                    </Notice>
                  ) : (
                    <Notice tone="error">Could not reach your receiver: {test.error ?? 'no answer'}.</Notice>
                  )}
                </div>
              )}
              <p class="hint">
                Ready-made receivers:{' '}
                <a href="/api/v1/webhooks/receivers/receiver.php" download>
                  PHP
                </a>
                ,{' '}
                <a href="/api/v1/webhooks/receivers/receiver.mjs" download>
                  Node.js
                </a>
                ,{' '}
                <a href="/api/v1/webhooks/receivers/receiver.py" download>
                  Python
                </a>
                .
              </p>
            </Card>
          </div>
          <Deliveries version={deliveriesVersion} />
        </>
      )}
    </>
  );
}

function Deliveries(props: { version: number }) {
  const pages = useCursorPages();
  const cursor = pages.cursor;
  const page = useLoad(
    () => api<{ deliveries: Delivery[]; nextCursor: string | null }>('GET', `/api/v1/webhooks/deliveries?limit=20${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`),
    [cursor, props.version],
  );
  useRefreshWhile(page.data?.deliveries.some((d) => d.status === 'pending') ?? false, page.reload);
  const [note, setNote] = useState<{ tone: 'error' | 'success'; text: string } | undefined>();
  const redeliver = async (id: string) => {
    setNote(undefined);
    try {
      const answer = await api<{ queued: boolean }>('POST', `/api/v1/webhooks/deliveries/${encodeURIComponent(id)}/redeliver`);
      setNote({ tone: 'success', text: answer.queued ? 'Queued again with the same webhook-id.' : 'Already queued: the event is waiting to be delivered.' });
      await page.reload();
    } catch (e) {
      setNote({ tone: 'error', text: errorText(e) });
    }
    focusWhenShown('redeliver-note');
  };
  return (
    <Card
      title="Recent deliveries"
      actions={
        <button class="btn btn-small" onClick={() => void (page.loading || page.reload())} aria-busy={page.loading} data-testid="refresh-deliveries">
          Refresh
        </button>
      }
    >
      {note && (
        <Notice tone={note.tone} testId="redeliver-note" id="redeliver-note">
          {note.text}
        </Notice>
      )}
      {page.error && <Notice tone="error">{page.error}</Notice>}
      {!page.data && !page.error && <Skeleton lines={4} height={20} />}
      {page.data && page.data.deliveries.length === 0 && <Empty title="No deliveries yet">Events appear here as they are sent to your URL.</Empty>}
      {page.data && page.data.deliveries.length > 0 && (
        <div class="table-wrap">
          <table class="table" data-testid="deliveries-table">
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">Status</th>
                <th scope="col">Attempts</th>
                <th scope="col">Last response</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {page.data.deliveries.map((d) => (
                <tr key={d.id} data-delivery-id={d.id}>
                  <td data-label="Event">
                    <code>{d.event}</code>
                    {d.test && <span class="pill">test</span>}
                  </td>
                  <td data-label="Status">
                    <Badge value={d.status} />
                    {d.status === 'pending' && d.nextAttemptAt && <p class="hint">next try {formatTime(d.nextAttemptAt)}</p>}
                  </td>
                  <td data-label="Attempts">{d.attempts}</td>
                  <td data-label="Last response">
                    {d.lastStatus !== null ? `HTTP ${d.lastStatus}` : '—'}
                    {d.lastError && <p class="row-error">{d.lastError}</p>}
                  </td>
                  <td data-label="Created">{formatTime(d.createdAt)}</td>
                  <td class="actions">
                    <button class="btn btn-small" onClick={() => void redeliver(d.id)} aria-label={`Redeliver ${d.event} ${d.id}`}>
                      Redeliver
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager pages={pages} nextCursor={page.data?.nextCursor} previous="← Newer" next="Older →" />
    </Card>
  );
}
