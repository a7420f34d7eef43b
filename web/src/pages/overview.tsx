import { api, type DayCount, type Status } from '../api';
import { DailyChart, UsageBar } from '../components/charts';
import { Badge, Card, Notice, PageHeader, Skeleton, formatDate, formatTime, planLabel } from '../components/ui';
import { useLoad } from '../session';

export function OverviewPage() {
  const status = useLoad(() => api<Status>('GET', '/api/v1/status'));
  const stats = useLoad(() => api<{ days: DayCount[] }>('GET', '/api/v1/stats/daily?days=7'));
  const s = status.data;

  return (
    <>
      <PageHeader title="Overview" lead="Your WhatsApp connection, plan and usage at a glance." />
      {status.error && <Notice tone="error">{status.error}</Notice>}
      <div class="grid grid-3">
        <Card title="Connection">
          {s ? (
            <div class="stat">
              <Badge value={s.state} testId="overview-state" />
              <p class="stat-main">{s.phone ? `+${s.phone}` : 'No number linked'}</p>
              <p class="hint">
                <a href="/connection">{s.connected ? 'Manage connection' : 'Link your WhatsApp'} →</a>
              </p>
            </div>
          ) : (
            <Skeleton lines={3} />
          )}
        </Card>
        <Card title="Plan">
          {s ? (
            <div class="stat">
              <p class="stat-main">{planLabel(s.plan)}</p>
              <p class={s.subscriptionActive ? 'hint' : 'hint text-bad'}>
                {s.subscriptionActive
                  ? s.subscriptionExpiresAt
                    ? `Active until ${formatDate(s.subscriptionExpiresAt)}`
                    : 'Active, no end date'
                  : `Inactive${s.subscriptionExpiresAt ? ` since ${formatDate(s.subscriptionExpiresAt)}` : ''}: sending is paused`}
              </p>
            </div>
          ) : (
            <Skeleton lines={2} />
          )}
        </Card>
        <Card title="Last 24 hours">{s ? <UsageBar used={s.messagesToday} limit={s.dailyLimit} /> : <Skeleton lines={3} />}</Card>
      </div>
      {s?.restrictions?.reachoutTimelock.active && (
        <Notice tone="error" testId="overview-restricted">
          WhatsApp has restricted this number from starting new chats
          {s.restrictions.reachoutTimelock.until ? ` until ${formatTime(s.restrictions.reachoutTimelock.until)}` : ''}. Messages to people who already chat with you
          still go; new numbers are refused until it lifts.
        </Notice>
      )}
      {s?.restrictions && s.restrictions.newChatCap.total !== null && (
        <Card title="WhatsApp's new-chat cap">
          <p class="stat-main" data-testid="overview-cap">
            {s.restrictions.newChatCap.used ?? 0} of {s.restrictions.newChatCap.total} new chats used
          </p>
          {s.restrictions.newChatCap.cycleEndsAt && <p class="hint">The cycle ends {formatTime(s.restrictions.newChatCap.cycleEndsAt)}.</p>}
        </Card>
      )}
      <Card title="Messages, last 7 days" actions={<a href="/messages">Open the log →</a>}>
        {stats.error && <Notice tone="error">{stats.error}</Notice>}
        {stats.data ? <DailyChart days={stats.data.days} /> : <div class="chart-placeholder"><Skeleton lines={1} height={150} /></div>}
      </Card>
    </>
  );
}
