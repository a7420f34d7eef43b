import { useEffect, useState } from 'preact/hooks';
import { api, type AdminAccount, type DayCount } from '../api';
import { DailyChart, UsageBar } from '../components/charts';
import { Badge, Card, Field, Notice, PageHeader, PlanFields, Skeleton, errorText, focusWhenShown, formatDate, planLabel } from '../components/ui';
import { useAuth, useLoad } from '../session';

export function AdminAccountPage(props: { id: string }) {
  const { auth } = useAuth();
  const detail = useLoad(() => api<{ account: AdminAccount; days: DayCount[] }>('GET', `/api/v1/admin/accounts/${encodeURIComponent(props.id)}`), [props.id]);
  const [plan, setPlan] = useState('trial');
  const [expires, setExpires] = useState('');
  const [password, setPassword] = useState('');
  const [message, setMessage] = useState<{ tone: 'error' | 'success'; text: string } | undefined>();
  const a = detail.data?.account;

  useEffect(() => {
    if (!a) return;
    setPlan(a.plan);
    setExpires(a.subscriptionExpiresAt ? a.subscriptionExpiresAt.slice(0, 10) : '');
  }, [a?.plan, a?.subscriptionExpiresAt]);

  const act = async (text: string, action: () => Promise<unknown>) => {
    setMessage(undefined);
    try {
      await action();
      setMessage({ tone: 'success', text });
      await detail.reload();
    } catch (e) {
      setMessage({ tone: 'error', text: errorText(e) });
    }
    focusWhenShown('admin-account-message');
  };
  const path = `/api/v1/admin/accounts/${encodeURIComponent(props.id)}`;

  return (
    <>
      <PageHeader title={a?.email ?? 'Account'} lead={<a href="/admin">← All accounts</a>} />
      {detail.error && <Notice tone="error">{detail.error}</Notice>}
      {message && (
        <Notice tone={message.tone} id="admin-account-message">
          {message.text}
        </Notice>
      )}
      {!a && !detail.error && (
        <Card>
          <Skeleton lines={5} />
        </Card>
      )}
      {a && (
        <>
          <div class="grid grid-3">
            <Card title="WhatsApp">
              <Badge value={a.state} />
              <p class="stat-main">{a.phone ? `+${a.phone}` : 'No number linked'}</p>
            </Card>
            <Card title="Subscription">
              <p class="stat-main">{planLabel(a.plan)}</p>
              <p class={a.subscriptionActive ? 'hint' : 'hint text-bad'}>
                {!a.active ? 'Disabled' : a.subscriptionActive ? `Active until ${formatDate(a.subscriptionExpiresAt, 'further notice')}` : 'Expired'}
              </p>
            </Card>
            <Card title="Last 24 hours">
              <UsageBar used={a.messagesToday} limit={a.dailyLimit} />
            </Card>
          </div>
          <Card title="Messages, last 7 days">
            <DailyChart days={detail.data!.days} />
          </Card>
          <div class="grid grid-2">
            <Card title="Plan and expiry">
              <form
                onSubmit={(e) => {
                  e.preventDefault();
                  void act('Plan saved.', () => api('PATCH', path, { plan, expiresAt: expires || null }));
                }}
              >
                <PlanFields idPrefix="" plan={plan} onPlan={setPlan} expires={expires} onExpires={setExpires} />
                <button class="btn btn-primary" type="submit">
                  Save plan
                </button>
              </form>
            </Card>
            <Card title="Access">
              <form
                onSubmit={(e) => {
                  e.preventDefault();
                  void act('Password set. The account was signed out of every browser.', async () => {
                    await api('POST', `${path}/password`, { password });
                    setPassword('');
                  });
                }}
              >
                <Field label={a.hasPassword ? 'Reset password' : 'Set password'} id="reset-password" hint="At least 10 characters. Tell the account holder.">
                  <input id="reset-password" type="password" autoComplete="new-password" required minLength={10} value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
                </Field>
                <button class="btn" type="submit">
                  {a.hasPassword ? 'Reset password' : 'Set password'}
                </button>
              </form>
              <hr />
              {a.id !== auth.account?.id && (
                <button
                  class={`btn ${a.active ? 'btn-danger' : ''}`}
                  onClick={() => void act(a.active ? 'Account disabled: it cannot send or sign in.' : 'Account enabled.', () => api('PATCH', path, { active: !a.active }))}
                >
                  {a.active ? 'Disable account' : 'Enable account'}
                </button>
              )}
              <p class="hint">
                Account id <code>{a.id}</code>, created {formatDate(a.createdAt)}.
              </p>
            </Card>
          </div>
        </>
      )}
    </>
  );
}
