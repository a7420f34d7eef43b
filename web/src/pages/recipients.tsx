import { useState } from 'preact/hooks';
import { api, type Settings } from '../api';
import { Card, Empty, Notice, PageHeader, Skeleton, errorText, focusWhenShown, planLabel } from '../components/ui';
import { useLoad } from '../session';

export function RecipientsPage() {
  const settings = useLoad(() => api<Settings>('GET', '/api/v1/settings'));
  const [error, setError] = useState<string | undefined>();
  const [removed, setRemoved] = useState<string | undefined>();
  // The pressed button disappears with its row: focus goes to the sentence saying what happened.
  const remove = async (recipient: string) => {
    setError(undefined);
    setRemoved(undefined);
    try {
      await api('DELETE', `/api/v1/settings/recipients/${encodeURIComponent(recipient)}`);
      setRemoved(`+${recipient} removed: its place is free for another number.`);
      await settings.reload();
      focusWhenShown('recipients-note');
    } catch (e) {
      setError(errorText(e));
      focusWhenShown('recipients-error');
    }
  };
  const list = settings.data?.allowedRecipients;
  return (
    <>
      <PageHeader title="Recipients" lead="The Personal plan sends to a few numbers: the first ones you send to become your recipients. Remove one to free its place for another." />
      <Card>
        {error && (
          <Notice tone="error" id="recipients-error">
            {error}
          </Notice>
        )}
        {removed && (
          <Notice tone="success" id="recipients-note">
            {removed}
          </Notice>
        )}
        {settings.error && <Notice tone="error">{settings.error}</Notice>}
        {!settings.data && !settings.error && <Skeleton lines={3} height={20} />}
        {settings.data && list === undefined && (
          <Empty title="No recipient limit on your plan">Your {planLabel(settings.data.plan)} plan can send to any number.</Empty>
        )}
        {list && list.length === 0 && <Empty title="No recipients yet">The first numbers you send to will appear here.</Empty>}
        {list && list.length > 0 && (
          <ul class="rows">
            {list.map((r) => (
              <li key={r} class="row">
                <code>+{r}</code>
                <button class="btn btn-small" onClick={() => void remove(r)} aria-label={`Remove ${r}`}>
                  Remove
                </button>
              </li>
            ))}
          </ul>
        )}
      </Card>
    </>
  );
}
