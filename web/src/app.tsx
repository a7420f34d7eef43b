import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, authState, setCsrfToken, whenSignedOut, type AuthState } from './api';
import { Shell } from './components/shell';
import { Skeleton } from './components/ui';
import { AccountPage } from './pages/account';
import { AdminAccountPage } from './pages/admin-account';
import { AdminPage } from './pages/admin';
import { ConnectionPage } from './pages/connection';
import { GroupsPage } from './pages/groups';
import { KeysPage } from './pages/keys';
import { LoginPage } from './pages/login';
import { MessagesPage } from './pages/messages';
import { InboxPage } from './pages/inbox';
import { NotFoundPage } from './pages/not-found';
import { OverviewPage } from './pages/overview';
import { QuickStartPage } from './pages/quick-start';
import { RecipientsPage } from './pages/recipients';
import { SetupPage } from './pages/setup';
import { WebhooksPage } from './pages/webhooks';
import { navigate, usePath } from './router';
import { Auth } from './session';

const PUBLIC_PAGES = new Set(['/login', '/setup', '/signup']);

const TITLES: Record<string, string> = {
  '/': 'Overview',
  '/login': 'Sign in',
  '/signup': 'Create an account',
  '/setup': 'Set up this server',
  '/connection': 'WhatsApp connection',
  '/keys': 'API keys',
  '/webhooks': 'Webhooks',
  '/groups': 'Groups',
  '/messages': 'Messages',
  '/inbox': 'Inbox',
  '/recipients': 'Recipients',
  '/quick-start': 'Quick start',
  '/account': 'Your account',
  '/admin': 'Admin: accounts',
};

/** Each page's own tab title (and what a screen reader announces on arrival). */
function titleOf(path: string): string {
  const title = TITLES[path] ?? (/^\/admin\/accounts\/[^/]+$/.test(path) ? 'Account details' : 'Page not found');
  return `${title} · MessageAPI`;
}

/** Known dashboard paths: anything else gets the not-found page, signed in or not. */
export function isKnownPath(path: string): boolean {
  return path in TITLES || /^\/admin\/accounts\/[^/]+$/.test(path);
}

function Page(props: { path: string }) {
  const { path } = props;
  const admin = /^\/admin\/accounts\/([^/]+)$/.exec(path);
  if (admin) return <AdminAccountPage id={decodeURIComponent(admin[1]!)} />;
  switch (path) {
    case '/':
      return <OverviewPage />;
    case '/connection':
      return <ConnectionPage />;
    case '/keys':
      return <KeysPage />;
    case '/webhooks':
      return <WebhooksPage />;
    case '/groups':
      return <GroupsPage />;
    case '/messages':
      return <MessagesPage />;
    case '/inbox':
      return <InboxPage />;
    case '/recipients':
      return <RecipientsPage />;
    case '/quick-start':
      return <QuickStartPage />;
    case '/account':
      return <AccountPage />;
    case '/admin':
      return <AdminPage />;
    default:
      return <NotFoundPage />;
  }
}

export function App() {
  const path = usePath();
  const [auth, setAuth] = useState<AuthState | undefined>(undefined);
  const [failed, setFailed] = useState<string | undefined>(undefined);

  const refresh = useCallback(async () => {
    try {
      const state = await authState();
      setCsrfToken(state.csrfToken);
      setAuth(state);
      setFailed(undefined);
    } catch (e) {
      setFailed((e as Error).message);
    }
  }, []);

  const signOut = useCallback(
    async (everywhere = false) => {
      await api('POST', everywhere ? '/auth/logout-everywhere' : '/auth/logout', {}).catch(() => undefined);
      // Signed out first, then the page: navigating while still signed in showed the sign-in form,
      // bounced to / and showed it again, so what was typed into the first one was lost.
      await refresh();
      navigate('/login', true);
    },
    [refresh],
  );

  useEffect(() => {
    void refresh();
    whenSignedOut(() => void refresh());
  }, [refresh]);

  useEffect(() => {
    document.title = titleOf(path);
  }, [path]);

  // Send people where they can do something: setup on a fresh server, sign-in when signed out.
  useEffect(() => {
    if (!auth) return;
    if (!isKnownPath(path)) return;
    if (!auth.signedIn && !PUBLIC_PAGES.has(path)) navigate(auth.setupRequired ? `/setup${location.hash}` : '/login', true);
    else if (auth.signedIn && PUBLIC_PAGES.has(path)) navigate('/', true);
  }, [auth, path]);

  if (failed && !auth) {
    return (
      <main class="center-page">
        <div class="card narrow">
          <h1>MessageAPI</h1>
          <p role="alert">{failed}</p>
          <button class="btn" onClick={() => void refresh()}>
            Try again
          </button>
        </div>
      </main>
    );
  }
  if (!auth) {
    return (
      <main class="center-page">
        <div class="card narrow">
          <Skeleton lines={4} />
        </div>
      </main>
    );
  }

  return (
    <Auth.Provider value={{ auth, refresh, signOut }}>
      {!isKnownPath(path) && !auth.signedIn ? (
        <main id="main" class="center-page">
          <div class="card narrow">
            <NotFoundPage signedIn={false} />
          </div>
        </main>
      ) : path === '/setup' && !auth.signedIn ? (
        <SetupPage />
      ) : !auth.signedIn || PUBLIC_PAGES.has(path) ? (
        <LoginPage signup={path === '/signup'} />
      ) : (
        <Shell path={path}>
          <Page path={path} />
        </Shell>
      )}
    </Auth.Provider>
  );
}
