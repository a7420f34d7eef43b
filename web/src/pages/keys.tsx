import { useState } from 'preact/hooks';
import { api, type KeyView } from '../api';
import { Card, Empty, Notice, PageHeader, SecretReveal, Skeleton, errorText, formatTime } from '../components/ui';
import { useLoad } from '../session';

export function KeysPage() {
  const keys = useLoad(() => api<{ keys: KeyView[] }>('GET', '/api/v1/keys'));
  const [created, setCreated] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState<string | undefined>();

  const create = async () => {
    setBusy(true);
    setError(undefined);
    try {
      setCreated((await api<{ apiKey: string }>('POST', '/api/v1/keys')).apiKey);
      await keys.reload();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  const revoke = async (id: string) => {
    setError(undefined);
    try {
      await api('DELETE', `/api/v1/keys/${encodeURIComponent(id)}`);
      setConfirming(undefined);
      await keys.reload();
    } catch (e) {
      setError(errorText(e));
    }
  };

  const active = keys.data?.keys.filter((k) => !k.revokedAt) ?? [];
  const revoked = keys.data?.keys.filter((k) => k.revokedAt) ?? [];

  return (
    <>
      <PageHeader
        title="API keys"
        lead="A key lets a program send in your name. Keep keys secret; revoke one you no longer trust."
        actions={
          <button class="btn btn-primary" onClick={() => void create()} disabled={busy} data-testid="create-key">
            {busy ? 'Creating…' : 'Create a key'}
          </button>
        }
      />
      {error && <Notice tone="error">{error}</Notice>}
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
                    <td data-label="Key">
                      <code>{k.prefix}…</code>
                    </td>
                    <td data-label="Created">{formatTime(k.createdAt)}</td>
                    <td data-label="Last used">{k.lastUsedAt ? formatTime(k.lastUsedAt) : 'Never'}</td>
                    <td class="actions">
                      {confirming === k.id ? (
                        <>
                          <button class="btn btn-small btn-danger" onClick={() => void revoke(k.id)}>
                            Revoke {k.prefix}…
                          </button>
                          <button class="btn btn-small" onClick={() => setConfirming(undefined)}>
                            Cancel
                          </button>
                        </>
                      ) : (
                        <button class="btn btn-small" onClick={() => setConfirming(k.id)} aria-label={`Revoke key ${k.prefix}`}>
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
                <code>{k.prefix}…</code> <span class="hint">revoked {formatTime(k.revokedAt)}</span>
              </li>
            ))}
          </ul>
        </Card>
      )}
    </>
  );
}
