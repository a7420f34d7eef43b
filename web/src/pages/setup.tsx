import { useState } from 'preact/hooks';
import { api, setCsrfToken } from '../api';
import { Field, Notice, errorText } from '../components/ui';
import { FirstKeyPage } from '../components/first-key';
import { useAuth } from '../session';

/** First run: the link printed in the terminal carries a one-time token in its fragment. */
export function SetupPage() {
  const { auth } = useAuth();
  const token = new URLSearchParams(location.hash.slice(1)).get('token') ?? '';
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [apiKey, setApiKey] = useState<string | undefined>();

  const submit = async (event: Event) => {
    event.preventDefault();
    if (password !== repeat) {
      setError('The two passwords differ.');
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const answer = await api<{ csrfToken: string; apiKey: string }>('POST', '/auth/setup', { token, email, password });
      setCsrfToken(answer.csrfToken);
      history.replaceState(null, '', '/setup');
      setApiKey(answer.apiKey);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  // An old setup link (or a bookmark) once accounts exist: nothing to fill in, only the way to sign in.
  if (!apiKey && !auth.setupRequired) {
    return (
      <main id="main" class="center-page">
        <div class="card narrow auth-card">
          <div class="brand brand-large">
            <img src="/favicon.svg" alt="" width="36" height="36" />
            <span>MessageAPI</span>
          </div>
          <h1>This server is already set up</h1>
          <p class="lead">It has accounts, so this setup link is no longer needed. Sign in with your e-mail and password.</p>
          <a class="btn btn-primary btn-block" href="/login" data-testid="setup-sign-in">
            Go to sign-in
          </a>
        </div>
      </main>
    );
  }

  if (apiKey) return <FirstKeyPage title="You're all set" lead="Your admin account is ready. Here is its first API key; it is shown only now, so copy it somewhere safe. You can create more keys later." apiKey={apiKey} testId="setup-key" />;

  return (
    <main id="main" class="center-page">
      <form class="card narrow auth-card" onSubmit={submit} aria-labelledby="setup-title">
        <div class="brand brand-large">
          <img src="/favicon.svg" alt="" width="36" height="36" />
          <span>MessageAPI</span>
        </div>
        <h1 id="setup-title">Set up this server</h1>
        <p class="lead">Create the first account. It is an admin: it can create and manage the accounts of everyone else.</p>
        {!token && (
          <Notice tone="warn">Open the setup link exactly as the server printed it in the terminal: it ends with #token=….</Notice>
        )}
        {error && <Notice tone="error">{error}</Notice>}
        <Field label="Your e-mail" id="setup-email">
          <input id="setup-email" type="email" autoComplete="username" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        </Field>
        <Field label="Password" id="setup-password" hint="At least 10 characters.">
          <input id="setup-password" type="password" autoComplete="new-password" required minLength={10} value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        </Field>
        <Field label="Repeat the password" id="setup-repeat">
          <input id="setup-repeat" type="password" autoComplete="new-password" required minLength={10} value={repeat} onInput={(e) => setRepeat(e.currentTarget.value)} />
        </Field>
        <button type="submit" class="btn btn-primary btn-block" disabled={busy || !token}>
          {busy ? 'Creating…' : 'Create admin account'}
        </button>
      </form>
    </main>
  );
}
