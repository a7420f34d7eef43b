import { useEffect, useState } from 'preact/hooks';
import { api, setCsrfToken } from '../api';
import { Field, Notice, errorText, focusWhenShown } from '../components/ui';
import { FirstKeyPage } from '../components/first-key';
import { navigate, onLinkClick } from '../router';
import { useAuth } from '../session';

export function LoginPage(props: { signup: boolean }) {
  const { auth, refresh } = useAuth();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [newKey, setNewKey] = useState<string | undefined>();
  const signup = props.signup && auth.signupEnabled;
  // Arriving here from a signed-in page (Sign out): focus would be on <body>; start at the form's first field.
  useEffect(() => {
    if (document.activeElement === document.body) document.getElementById('email')?.focus();
  }, []);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const answer = await api<{ csrfToken: string; apiKey?: string }>('POST', signup ? '/auth/signup' : '/auth/login', { email, password });
      setCsrfToken(answer.csrfToken);
      if (answer.apiKey) {
        setNewKey(answer.apiKey);
      } else {
        await refresh();
        navigate('/', true);
      }
    } catch (e) {
      setError(errorText(e));
      // the alert is read out; focus goes back to the password for another try
      focusWhenShown('password');
    } finally {
      setBusy(false);
    }
  };

  if (newKey) return <FirstKeyPage title="Welcome to MessageAPI" lead="Your Trial account is ready. This is your API key; it is shown only now." apiKey={newKey} />;

  return (
    <main id="main" class="center-page" onClick={onLinkClick}>
      <form class="card narrow auth-card" onSubmit={submit} aria-labelledby="login-title" noValidate={false}>
        <div class="brand brand-large">
          <img src="/favicon.svg" alt="" width="36" height="36" />
          <span>MessageAPI</span>
        </div>
        <h1 id="login-title">{signup ? 'Create your account' : 'Sign in'}</h1>
        <p class="lead">{signup ? 'You start on the Trial plan; you can send as soon as you are in.' : 'Send WhatsApp messages from your own number with one HTTP request.'}</p>
        {error && (
          <Notice tone="error" testId="login-error">
            {error}
          </Notice>
        )}
        <Field label="E-mail" id="email">
          <input id="email" name="email" type="email" autoComplete="username" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        </Field>
        <Field label="Password" id="password" hint={signup ? 'At least 10 characters.' : undefined}>
          <input
            id="password"
            name="password"
            type="password"
            autoComplete={signup ? 'new-password' : 'current-password'}
            required
            minLength={signup ? 10 : undefined}
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </Field>
        <button type="submit" class="btn btn-primary btn-block" disabled={busy}>
          {busy ? 'Please wait…' : signup ? 'Create account' : 'Sign in'}
        </button>
        {auth.signupEnabled && (
          <p class="hint center">{signup ? <a href="/login">I already have an account</a> : <a href="/signup">No account yet? Create one</a>}</p>
        )}
        {!signup && <p class="hint center">Forgot your password? The operator of this server can reset it.</p>}
      </form>
    </main>
  );
}
