import { useState } from 'preact/hooks';
import { api, type KeyView } from '../api';
import { Card, Empty, Field, Notice, PageHeader, SecretReveal, Skeleton, errorText, focusWhenShown, formatTime } from '../components/ui';
import { useLoad } from '../session';

export function KeysPage() {
  const keys = useLoad(() => api<{ keys: KeyView[] }>('GET', '/api/v1/keys'));
  const [created, setCreated] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState<string | undefined>();
  const [name, setName] = useState('');
  const [revokedNote, setRevokedNote] = useState<string | undefined>();

  // Focus follows each action: to the new key (SecretReveal), to the sentence saying a key was revoked, or to the error.
  const create = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    setRevokedNote(undefined);
    try {
      setCreated((await api<{ apiKey: string }>('POST', '/api/v1/keys', name.trim() ? { name: name.trim() } : {})).apiKey);
      setName('');
      await keys.reload();
    } catch (e) {
      setError(errorText(e));
      focusWhenShown('keys-error');
    } finally {
      setBusy(false);
    }
  };
  const revoke = async (key: KeyView) => {
    setError(undefined);
    try {
      await api('DELETE', `/api/v1/keys/${encodeURIComponent(key.id)}`);
      setConfirming(undefined);
      setCreated(undefined);
      setRevokedNote(`Key ${key.name ?? `${key.prefix}…`} revoked: requests with it are refused from now on.`);
      await keys.reload();
      focusWhenShown('keys-note');
    } catch (e) {
      setError(errorText(e));
      focusWhenShown('keys-error');
    }
  };
  const cancel = (key: KeyView) => {
    setConfirming(undefined);
    focusWhenShown(`revoke-${key.id}`);
  };

  const active = keys.data?.keys.filter((k) => !k.revokedAt) ?? [];
  const revoked = keys.data?.keys.filter((k) => k.revokedAt) ?? [];

  return (
    <>
      <PageHeader
        title="API keys"
        lead="A key lets a program send in your name. Keep keys secret; revoke one you no longer trust."
      />
      <Card title="New key" id="new-key-card">
        <form class="key-form" onSubmit={(e) => void create(e)}>
          <Field label="Name (optional)" id="key-name" hint="Where the key will be used, e.g. shop server. Only you see it.">
            <input id="key-name" type="text" maxLength={60} value={name} onInput={(e) => setName(e.currentTarget.value)} />
          </Field>
          <button type="submit" class="btn btn-primary" disabled={busy} data-testid="create-key">
            {busy ? 'Creating…' : 'Create a key'}
          </button>
        </form>
      </Card>
      {error && (
        <Notice tone="error" id="keys-error">
          {error}
        </Notice>
      )}
      {revokedNote && (
        <Notice tone="success" id="keys-note" testId="keys-note">
          {revokedNote}
        </Notice>
      )}
      {created && (
        <SecretReveal title="Your new API key" value={created} testId="new-key">
          This is the only time the whole key is shown. Copy it now; later you will see only its first characters.
        </SecretReveal>
      )}
      <Card title="Active keys">
        {keys.error && <Notice tone="error">{keys.error}</Notice>}
        {!keys.data && !keys.error && <Skeleton lines={3} />}
        {keys.data && active.length === 0 && <Empty title="No active keys">Create one to start sending.</Empty>}
        {active.length > 0 && (
          <div class="table-wrap">
            <table class="table" data-testid="keys-table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Key</th>
                  <th scope="col">Created</th>
                  <th scope="col">Last used</th>
                  <th scope="col">
                    <span class="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {active.map((k) => (
                  <tr key={k.id}>
                    <td data-label="Name">{k.name ?? <span class="hint">No name</span>}</td>
                    <td data-label="Key">
                      <code>{k.prefix}…</code>
                    </td>
                    <td data-label="Created">{formatTime(k.createdAt)}</td>
                    <td data-label="Last used">{k.lastUsedAt ? formatTime(k.lastUsedAt) : 'Never'}</td>
                    <td class="actions">
                      {confirming === k.id ? (
                        <>
                          <button class="btn btn-small btn-danger" id={`confirm-revoke-${k.id}`} onClick={() => void revoke(k)}>
                            Revoke {k.prefix}…
                          </button>
                          <button class="btn btn-small" onClick={() => cancel(k)}>
                            Cancel
                          </button>
                        </>
                      ) : (
                        <button
                          class="btn btn-small"
                          id={`revoke-${k.id}`}
                          onClick={() => {
                            setConfirming(k.id);
                            focusWhenShown(`confirm-revoke-${k.id}`);
                          }}
                          aria-label={`Revoke key ${k.name ?? k.prefix}`}
                        >
                          Revoke
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
      {revoked.length > 0 && (
        <Card title="Revoked keys">
          <ul class="plain-list">
            {revoked.map((k) => (
              <li key={k.id}>
                {k.name && <>{k.name} </>}
                <code>{k.prefix}…</code> <span class="hint">revoked {formatTime(k.revokedAt)}</span>
              </li>
            ))}
          </ul>
        </Card>
      )}
    </>
  );
}
