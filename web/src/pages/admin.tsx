import { useEffect, useState } from 'preact/hooks';
import { api, type AdminAccount } from '../api';
import { Pager, useCursorPages } from '../components/pager';
import { Badge, Card, Empty, Field, Notice, PageHeader, PlanFields, SecretReveal, Skeleton, errorText, focusWhenShown, formatDate, planLabel } from '../components/ui';
import { useAuth, useLoad } from '../session';

export function AdminPage() {
  const { auth } = useAuth();
  const [query, setQuery] = useState('');
  const [search, setSearch] = useState('');
  const pages = useCursorPages();
  const [creating, setCreating] = useState(false);
  const cursor = pages.cursor;

  useEffect(() => {
    const timer = setTimeout(() => {
      setSearch(query);
      pages.reset();
    }, 250);
    return () => clearTimeout(timer);
  }, [query]);

  const page = useLoad(() => {
    const params = new URLSearchParams({ limit: '25' });
    if (search) params.set('q', search);
    if (cursor) params.set('cursor', cursor);
    return api<{ accounts: AdminAccount[]; nextCursor: string | null }>('GET', `/api/v1/admin/accounts?${params}`);
  }, [search, cursor]);

  if (!auth.account?.isAdmin) return <Empty title="Admins only">This page is for the operator of this server.</Empty>;

  return (
    <>
      <PageHeader
        title="Accounts"
        lead="Everyone who sends through this server: their plan, connection and usage."
        actions={
          <button class="btn btn-primary" onClick={() => setCreating(!creating)} aria-expanded={creating}>
            {creating ? 'Close' : 'New account'}
          </button>
        }
      />
      {creating && <CreateAccount onCreated={() => void page.reload()} />}
      <Card>
        <div class="toolbar">
          <label for="account-search">Search</label>
          <input id="account-search" type="search" placeholder="E-mail or account id" value={query} onInput={(e) => setQuery(e.currentTarget.value)} />
        </div>
        {page.error && <Notice tone="error">{page.error}</Notice>}
        {!page.data && !page.error && <Skeleton lines={5} height={20} />}
        {page.data && page.data.accounts.length === 0 && <Empty title={search ? `No account matches “${search}”` : 'No accounts yet'} />}
        {page.data && page.data.accounts.length > 0 && (
          <div class="table-wrap">
            <table class="table" data-testid="accounts-table">
              <thead>
                <tr>
                  <th scope="col">E-mail</th>
                  <th scope="col">Plan</th>
                  <th scope="col">Expires</th>
                  <th scope="col">WhatsApp</th>
                  <th scope="col">Last 24 h</th>
                </tr>
              </thead>
              <tbody>
                {page.data.accounts.map((a) => (
                  <tr key={a.id}>
                    <td data-label="E-mail">
                      <a href={`/admin/accounts/${encodeURIComponent(a.id)}`}>{a.email}</a>
                      {a.isAdmin && <span class="pill">admin</span>}
                      {!a.active && <span class="pill pill-bad">disabled</span>}
                    </td>
                    <td data-label="Plan">{planLabel(a.plan)}</td>
                    <td data-label="Expires" class={a.subscriptionActive ? '' : 'text-bad'}>
                      {formatDate(a.subscriptionExpiresAt)}
                    </td>
                    <td data-label="WhatsApp">
                      <Badge value={a.state} />
                    </td>
                    <td data-label="Last 24 h">
                      {a.messagesToday}
                      {a.dailyLimit !== null ? ` / ${a.dailyLimit}` : ''}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <Pager pages={pages} nextCursor={page.data?.nextCursor} previous="← Previous" next="Next →" />
      </Card>
    </>
  );
}

function CreateAccount(props: { onCreated(): void }) {
  const [email, setEmail] = useState('');
  const [plan, setPlan] = useState('trial');
  const [expires, setExpires] = useState('');
  const [password, setPassword] = useState('');
  const [isAdmin, setIsAdmin] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [created, setCreated] = useState<{ email: string; apiKey: string } | undefined>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const answer = await api<{ account: AdminAccount; apiKey: string }>('POST', '/api/v1/admin/accounts', {
        email,
        plan,
        expiresAt: expires || null,
        password: password || undefined,
        isAdmin,
      });
      setCreated({ email: answer.account.email, apiKey: answer.apiKey });
      setEmail('');
      setPassword('');
      props.onCreated();
    } catch (e) {
      setError(errorText(e));
      focusWhenShown('new-account-error');
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card title="New account">
      {created && (
        <SecretReveal title={`API key of ${created.email}`} value={created.apiKey}>
          Shown only now: give it to the account holder.
        </SecretReveal>
      )}
      {error && (
        <Notice tone="error" id="new-account-error">
          {error}
        </Notice>
      )}
      <form onSubmit={submit} class="form-grid">
        <Field label="E-mail" id="new-email">
          <input id="new-email" type="email" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        </Field>
        <PlanFields idPrefix="new-" plan={plan} onPlan={setPlan} expires={expires} onExpires={setExpires} />
        <Field label="Dashboard password" id="new-password" hint="Optional; at least 10 characters. You can set it later.">
          <input id="new-password" type="password" autoComplete="new-password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        </Field>
        <label class="check">
          <input type="checkbox" checked={isAdmin} onChange={(e) => setIsAdmin(e.currentTarget.checked)} /> Admin (manages every account)
        </label>
        <div class="button-row">
          <button class="btn btn-primary" type="submit" disabled={busy}>
            {busy ? 'Creating…' : 'Create account'}
          </button>
        </div>
      </form>
    </Card>
  );
}
