import { useEffect, useState } from 'preact/hooks';
import { api, type SessionAnswer, type Settings } from '../api';
import { Badge, Card, Field, Notice, PageHeader, Skeleton, errorText, focusWhenShown } from '../components/ui';
import { useAuth, useLoad } from '../session';

/** Follows the session over server-sent events, so a scan on the phone shows here at once. */
function useLiveSession(): { session: SessionAnswer | undefined; live: boolean; set(s: SessionAnswer): void } {
  const [session, setSession] = useState<SessionAnswer | undefined>();
  const [live, setLive] = useState(false);
  useEffect(() => {
    const source = new EventSource('/api/v1/session/events');
    source.addEventListener('session', (event) => {
      setSession(JSON.parse((event as MessageEvent<string>).data) as SessionAnswer);
      setLive(true);
    });
    source.onerror = () => setLive(false);
    return () => source.close();
  }, []);
  return { session, live, set: setSession };
}

export function ConnectionPage() {
  const { auth } = useAuth();
  const { session, live, set } = useLiveSession();
  const [busy, setBusy] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [phone, setPhone] = useState('');
  const [confirmLogout, setConfirmLogout] = useState(false);

  const run = async (what: string, action: () => Promise<void>) => {
    setBusy(what);
    setError(undefined);
    try {
      await action();
      // the pressed button is gone or disabled now: focus the status, which says what happened
      focusWhenShown(what === 'pair' ? 'pairing-code' : 'status-title');
    } catch (e) {
      setError(errorText(e));
      focusWhenShown('connection-error');
    } finally {
      setBusy(undefined);
    }
  };
  const link = () => run('link', async () => set(await api<SessionAnswer>('POST', '/api/v1/session/link')));
  const pair = (event: Event) => {
    event.preventDefault();
    void run('pair', async () => set(await api<SessionAnswer>('POST', '/api/v1/session/pair', { phone })));
  };
  const logout = () =>
    run('logout', async () => {
      await api('POST', '/api/v1/session/logout');
      setConfirmLogout(false);
    });

  const state = session?.state;
  const linked = state === 'connected' || state === 'reconnecting';

  return (
    <>
      <PageHeader title="WhatsApp connection" lead="Link your number as a linked device, like WhatsApp Web. Messages go out from your own number." />
      {error && (
        <Notice tone="error" id="connection-error">
          {error}
        </Notice>
      )}
      <Card
        title="Status"
        id="status"
        actions={
          <span class={`live ${live ? 'live-on' : ''}`} title="Updates arrive without reloading">
            {live ? 'Live' : 'Connecting…'}
          </span>
        }
      >
        {session ? (
          <div class="status-row" aria-live="polite">
            <Badge value={session.state} testId="session-state" />
            <div>
              <p class="stat-main" data-testid="session-phone">
                {session.phone ? `+${session.phone}` : 'No number linked'}
              </p>
              {session.detail && <p class="hint">{session.detail}</p>}
            </div>
            {session.state === 'linking' && (
              <div class="status-actions">
                <button class="btn" onClick={() => void logout()} disabled={busy === 'logout'}>
                  Cancel linking
                </button>
              </div>
            )}
            {linked && (
              <div class="status-actions">
                {confirmLogout ? (
                  <>
                    <button class="btn btn-danger" onClick={() => void logout()} disabled={busy === 'logout'}>
                      Yes, log out
                    </button>
                    <button class="btn" onClick={() => setConfirmLogout(false)}>
                      Keep it
                    </button>
                  </>
                ) : (
                  <button class="btn" onClick={() => setConfirmLogout(true)}>
                    Log out of WhatsApp
                  </button>
                )}
              </div>
            )}
          </div>
        ) : (
          <Skeleton lines={2} />
        )}
      </Card>

      {session && !linked && (
        <div class="grid grid-2">
          <Card title="Link with a QR code">
            {session.qrDataUrl ? (
              <div class="qr">
                <img src={session.qrDataUrl} alt="QR code to scan with WhatsApp" width="264" height="264" data-testid="qr" />
                <ol class="steps">
                  <li>Open WhatsApp on your phone.</li>
                  <li>Settings → Linked devices → Link a device.</li>
                  <li>Point the phone at this code. It refreshes by itself.</li>
                </ol>
              </div>
            ) : (
              <div class="qr-empty">
                <p>Show a QR code and scan it with WhatsApp on your phone (Settings → Linked devices).</p>
                <button class="btn btn-primary" onClick={() => void link()} disabled={busy === 'link'} data-testid="link">
                  {busy === 'link' ? 'Starting…' : 'Link with QR code'}
                </button>
              </div>
            )}
          </Card>
          <Card title="Or use a pairing code">
            {session.pairingCode ? (
              <div class="pairing">
                <p>Enter this code in WhatsApp: Settings → Linked devices → Link with phone number.</p>
                <p class="pairing-code" data-testid="pairing-code" id="pairing-code" tabIndex={-1}>
                  {session.pairingCode}
                </p>
              </div>
            ) : (
              <form onSubmit={pair}>
                <Field label="Your WhatsApp number" id="pair-phone" hint="With country code, e.g. 12125551234.">
                  <input id="pair-phone" type="tel" inputMode="tel" autoComplete="tel" required value={phone} onInput={(e) => setPhone(e.currentTarget.value)} />
                </Field>
                <button class="btn" type="submit" disabled={busy === 'pair'}>
                  {busy === 'pair' ? 'Asking WhatsApp…' : 'Get pairing code'}
                </button>
              </form>
            )}
          </Card>
        </div>
      )}

      <DisconnectEmail mailConfigured={auth.mailConfigured} admin={auth.account?.isAdmin === true} />
    </>
  );
}

function DisconnectEmail(props: { mailConfigured: boolean; admin: boolean }) {
  const settings = useLoad(() => api<Settings>('GET', '/api/v1/settings'));
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const toggle = async (on: boolean) => {
    setSaving(true);
    setError(undefined);
    try {
      await api('PATCH', '/api/v1/settings', { disconnectEmail: on });
      await settings.reload();
      focusWhenShown('disconnect-email');
    } catch (e) {
      setError(errorText(e));
      focusWhenShown('disconnect-email-error');
    } finally {
      setSaving(false);
    }
  };
  return (
    <Card title="Disconnect e-mail">
      {!props.mailConfigured && (
        <Notice tone="warn">
          E-mail is not set up on this server, so no disconnect e-mail can go out.{' '}
          {props.admin
            ? "To send it, set SMTP_URL (for example smtps://user:password@smtp.example.com) in the server's environment and restart the server."
            : 'The operator of this server can turn it on by setting SMTP_URL in the server\'s environment.'}
        </Notice>
      )}
      {settings.error && <Notice tone="error">{settings.error}</Notice>}
      {error && (
        <Notice tone="error" id="disconnect-email-error">
          {error}
        </Notice>
      )}
      {settings.data ? (
        <label class="switch">
          <input id="disconnect-email" type="checkbox" role="switch" checked={settings.data.disconnectEmail} disabled={saving} onChange={(e) => void toggle(e.currentTarget.checked)} />
          <span>
            E-mail me at <strong>{settings.data.email}</strong> when WhatsApp disconnects (unlinked from the phone, or the connection could not be restored).
          </span>
        </label>
      ) : (
        !settings.error && <Skeleton lines={1} />
      )}
    </Card>
  );
}
