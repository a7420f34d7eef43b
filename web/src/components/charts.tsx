import type { DayCount } from '../api';

/** Messages in the rolling 24 hours against the plan's limit. */
export function UsageBar(props: { used: number; limit: number | null }) {
  if (props.limit === null) {
    return (
      <div class="usage">
        <p class="usage-figure">
          <strong>{props.used}</strong> {props.used === 1 ? 'message' : 'messages'} in the last 24 hours
        </p>
        <p class="hint">Your plan has no daily limit.</p>
      </div>
    );
  }
  const share = props.limit === 0 ? 1 : Math.min(1, props.used / props.limit);
  const tone = share >= 1 ? 'bad' : share >= 0.8 ? 'warn' : 'good';
  return (
    <div class="usage">
      <p class="usage-figure">
        <strong data-testid="usage-used">{props.used}</strong> of {props.limit} messages in the last 24 hours
      </p>
      <div class="bar" role="meter" aria-valuemin={0} aria-valuemax={props.limit} aria-valuenow={props.used} aria-label="Messages in the last 24 hours">
        <div class={`bar-fill bar-${tone}`} style={{ width: `${Math.round(share * 100)}%` }} />
      </div>
      <p class="hint">{Math.max(0, props.limit - props.used)} left. Each message counts for 24 hours; failed ones do not count.</p>
    </div>
  );
}

/** Sent and failed per day as paired bars (plain boxes, so the text stays readable at any width); a table for screen readers. */
export function DailyChart(props: { days: DayCount[] }) {
  const max = Math.max(1, ...props.days.map((d) => Math.max(d.sent, d.failed)));
  const empty = props.days.every((d) => d.sent === 0 && d.failed === 0);
  const label = (date: string) => new Date(`${date}T12:00:00Z`).toLocaleDateString(undefined, { weekday: 'short', timeZone: 'UTC' });
  const percent = (n: number) => `${n === 0 ? 0 : Math.max(2, Math.round((n / max) * 100))}%`;
  return (
    <figure class="chart">
      <div class="chart-plot" aria-hidden="true">
        {empty && <p class="chart-empty">No messages in the last 7 days</p>}
        {props.days.map((d) => (
          <div class="chart-day" key={d.date} title={`${d.date}: ${d.sent} sent, ${d.failed} failed`}>
            <div class="chart-bars">
              <div class="chart-bar chart-sent" style={{ height: percent(d.sent) }} />
              <div class="chart-bar chart-failed" style={{ height: percent(d.failed) }} />
            </div>
            <span class="chart-label">{label(d.date)}</span>
          </div>
        ))}
      </div>
      <figcaption class="legend">
        <span>
          <i class="swatch swatch-sent" /> Sent
        </span>
        <span>
          <i class="swatch swatch-failed" /> Failed
        </span>
        <span class="hint">Days in UTC</span>
      </figcaption>
      <table class="visually-hidden">
        <caption>Messages sent and failed per day, last 7 days</caption>
        <thead>
          <tr>
            <th>Day</th>
            <th>Sent</th>
            <th>Failed</th>
          </tr>
        </thead>
        <tbody>
          {props.days.map((d) => (
            <tr key={d.date}>
              <td>{d.date}</td>
              <td>{d.sent}</td>
              <td>{d.failed}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
