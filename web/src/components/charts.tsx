import type { DayCount } from '../api';

/** Messages in the rolling 24 hours against the plan's limit. */
export function UsageBar(props: { used: number; limit: number | null }) {
  if (props.limit === null) {
    return (
      <div class="usage">
        <p class="usage-figure">
          <strong>{props.used}</strong> messages in the last 24 hours
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

/** Sent and failed per day as paired bars; the numbers are in a table for screen readers. */
export function DailyChart(props: { days: DayCount[] }) {
  const max = Math.max(1, ...props.days.map((d) => Math.max(d.sent, d.failed)));
  const width = 760;
  const height = 200;
  const empty = props.days.every((d) => d.sent === 0 && d.failed === 0);
  const pad = { top: 12, bottom: 28, left: 8, right: 8 };
  const slot = (width - pad.left - pad.right) / props.days.length;
  const barWidth = Math.min(22, slot / 3);
  const scale = (n: number) => ((height - pad.top - pad.bottom) * n) / max;
  const label = (date: string) => new Date(`${date}T12:00:00Z`).toLocaleDateString(undefined, { weekday: 'short' });
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label="Messages sent and failed per day, last 7 days">
        {empty && (
          <text x={width / 2} y={(height - pad.bottom) / 2} text-anchor="middle" class="chart-empty">
            No messages in the last 7 days
          </text>
        )}
        <line x1={pad.left} x2={width - pad.right} y1={height - pad.bottom} y2={height - pad.bottom} class="chart-axis" />
        {props.days.map((d, i) => {
          const x = pad.left + slot * i + slot / 2;
          const base = height - pad.bottom;
          return (
            <g key={d.date}>
              <rect class="chart-sent" x={x - barWidth - 1} y={base - scale(d.sent)} width={barWidth} height={scale(d.sent)} rx="3">
                <title>{`${d.date}: ${d.sent} sent`}</title>
              </rect>
              <rect class="chart-failed" x={x + 1} y={base - scale(d.failed)} width={barWidth} height={scale(d.failed)} rx="3">
                <title>{`${d.date}: ${d.failed} failed`}</title>
              </rect>
              <text x={x} y={height - 8} text-anchor="middle" class="chart-label">
                {label(d.date)}
              </text>
            </g>
          );
        })}
      </svg>
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
        <caption>Messages per day</caption>
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
