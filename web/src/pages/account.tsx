import { useState } from 'preact/hooks';
import { api, setCsrfToken } from '../api';
import { Card, Field, Notice, PageHeader, errorText, focusWhenShown, planLabel } from '../components/ui';
import { useAuth } from '../session';

export function AccountPage() {
  const { auth, refresh, signOut } = useAuth();
  const account = auth.account!;
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [message, setMessage] = useState<{ tone: 'error' | 'success'; text: string } | undefined>();
  const [busy, setBusy] = useState(false);

  const change = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setMessage(undefined);
    try {
      const answer = await api<{ csrfToken: string }>('POST', '/auth/password', { currentPassword: current, newPassword: next });
      setCsrfToken(answer.csrfToken);
      setCurrent('');
      setNext('');
      setMessage({ tone: 'success', text: 'Password changed. Every other browser has been signed out.' });
      await refresh();
    } catch (e) {
      setMessage({ tone: 'error', text: errorText(e) });
    } finally {
      setBusy(false);
    }
    focusWhenShown('password-message');
  };
  const everywhere = () => signOut(true);

  return (
    <>
      <PageHeader title="Your account" />
      <div class="grid grid-2">
        <Card title="Details">
          <dl class="facts">
            <dt>E-mail</dt>
            <dd>{account.email}</dd>
            <dt>Plan</dt>
            <dd>{planLabel(account.plan)}</dd>
            <dt>Account id</dt>
            <dd>
              <code>{account.id}</code>
            </dd>
          </dl>
        </Card>
        <Card title="Sign out everywhere">
          <p>Ends every signed-in browser of this account, this one included. API keys keep working.</p>
          <button class="btn btn-danger" onClick={() => void everywhere()} data-testid="sign-out-everywhere">
            Sign out everywhere
          </button>
        </Card>
      </div>
      <Card title="Change password">
        {message && (
          <Notice tone={message.tone} id="password-message">
            {message.text}
          </Notice>
        )}
        <form onSubmit={change} class="form-narrow">
          <Field label="Current password" id="current-password">
            <input id="current-password" type="password" autoComplete="current-password" required value={current} onInput={(e) => setCurrent(e.currentTarget.value)} />
          </Field>
          <Field label="New password" id="new-password" hint="At least 10 characters.">
            <input id="new-password" type="password" autoComplete="new-password" required minLength={10} value={next} onInput={(e) => setNext(e.currentTarget.value)} />
          </Field>
          <button class="btn btn-primary" type="submit" disabled={busy}>
            {busy ? 'Saving…' : 'Change password'}
          </button>
        </form>
      </Card>
    </>
  );
}
