import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

export function Card(props: { title?: string; actions?: ComponentChildren; children: ComponentChildren; class?: string; id?: string }) {
  return (
    <section class={`card ${props.class ?? ''}`} id={props.id} aria-labelledby={props.title && props.id ? `${props.id}-title` : undefined}>
      {(props.title || props.actions) && (
        <header class="card-head">
          {props.title && <h2 id={props.id ? `${props.id}-title` : undefined}>{props.title}</h2>}
          {props.actions && <div class="card-actions">{props.actions}</div>}
        </header>
      )}
      {props.children}
    </section>
  );
}

export function PageHeader(props: { title: string; lead?: ComponentChildren; actions?: ComponentChildren }) {
  return (
    <header class="page-head">
      <div>
        <h1>{props.title}</h1>
        {props.lead && <p class="lead">{props.lead}</p>}
      </div>
      {props.actions && <div class="page-actions">{props.actions}</div>}
    </header>
  );
}

const STATE_LABELS: Record<string, string> = {
  connected: 'Connected',
  linking: 'Waiting for scan',
  reconnecting: 'Reconnecting',
  disconnected: 'Disconnected',
  unlinked: 'Not linked',
  sent: 'Sent',
  pending: 'Pending',
  failed: 'Failed',
  scheduled: 'Scheduled',
  cancelled: 'Cancelled',
  delivered: 'Delivered',
  dead: 'Gave up',
};
const STATE_TONES: Record<string, string> = {
  connected: 'good',
  sent: 'good',
  delivered: 'good',
  linking: 'warn',
  reconnecting: 'warn',
  pending: 'warn',
  disconnected: 'bad',
  failed: 'bad',
  dead: 'bad',
  scheduled: 'warn',
  cancelled: 'muted',
  unlinked: 'muted',
};

export function Badge(props: { value: string; testId?: string }) {
  return (
    <span class={`badge badge-${STATE_TONES[props.value] ?? 'muted'}`} data-testid={props.testId} data-state={props.value}>
      <span class="dot" aria-hidden="true" />
      {STATE_LABELS[props.value] ?? props.value}
    </span>
  );
}

export function CopyButton(props: { text: string; label?: string }) {
  const [done, setDone] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.text);
    } catch {
      const area = document.createElement('textarea');
      area.value = props.text;
      document.body.append(area);
      area.select();
      document.execCommand('copy');
      area.remove();
    }
    setDone(true);
    setTimeout(() => setDone(false), 1500);
  };
  return (
    <button type="button" class="btn btn-small" onClick={copy} aria-label={`${props.label ?? 'Copy'}: ${props.text.length > 40 ? 'copy to clipboard' : props.text}`}>
      {done ? 'Copied ✓' : (props.label ?? 'Copy')}
    </button>
  );
}

export function Notice(props: { tone: 'error' | 'success' | 'info' | 'warn'; children: ComponentChildren; testId?: string; id?: string }) {
  return (
    <div class={`notice notice-${props.tone}`} role={props.tone === 'error' ? 'alert' : 'status'} data-testid={props.testId} id={props.id} tabIndex={props.id ? -1 : undefined}>
      {props.children}
    </div>
  );
}

export function Empty(props: { title: string; children?: ComponentChildren }) {
  return (
    <div class="empty">
      <p class="empty-title">{props.title}</p>
      {props.children && <div class="empty-body">{props.children}</div>}
    </div>
  );
}

/** Grey blocks of the size the content will have, so nothing jumps when the data arrives. */
export function Skeleton(props: { lines?: number; height?: number }) {
  return (
    <div class="skeleton" aria-busy="true" aria-label="Loading">
      {Array.from({ length: props.lines ?? 3 }, (_, i) => (
        <div key={i} class="skeleton-line" style={{ height: `${props.height ?? 16}px`, width: `${90 - ((i * 17) % 40)}%` }} />
      ))}
    </div>
  );
}

export function Field(props: { label: string; hint?: ComponentChildren; children: ComponentChildren; id: string }) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      {props.children}
      {props.hint && <p class="hint">{props.hint}</p>}
    </div>
  );
}

const PLANS = ['trial', 'personal', 'unlimited'];

/** The operator's plan and subscription-end inputs (new account and account page); ids start with `idPrefix`. */
export function PlanFields(props: { idPrefix: string; plan: string; onPlan(plan: string): void; expires: string; onExpires(date: string): void }) {
  return (
    <>
      <Field label="Plan" id={`${props.idPrefix}plan`}>
        <select id={`${props.idPrefix}plan`} value={props.plan} onChange={(e) => props.onPlan(e.currentTarget.value)}>
          {PLANS.map((p) => (
            <option key={p} value={p}>
              {planLabel(p)}
            </option>
          ))}
        </select>
      </Field>
      <Field label="Subscription ends" id={`${props.idPrefix}expires`} hint="Empty: never.">
        <input id={`${props.idPrefix}expires`} type="date" value={props.expires} onInput={(e) => props.onExpires(e.currentTarget.value)} />
      </Field>
    </>
  );
}

/**
 * Moves keyboard focus to the element with this id once the page has re-rendered: after an action
 * disables or removes the button that was pressed, focus would otherwise fall to <body>.
 */
export function focusWhenShown(id: string): void {
  let tries = 0;
  const attempt = () => {
    const element = document.getElementById(id);
    if (element) {
      if (element.tabIndex < 0 && !element.hasAttribute('tabindex')) element.tabIndex = -1;
      element.focus();
    } else if (tries++ < 20) requestAnimationFrame(attempt);
  };
  requestAnimationFrame(attempt);
}

/** A secret shown once, right after the action that made it: focus goes to it, so a keyboard user lands on the Copy button next. */
export function SecretReveal(props: { title: string; value: string; children?: ComponentChildren; testId?: string }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => box.current?.focus(), [props.value]);
  return (
    <div class="secret" data-testid={props.testId} ref={box} tabIndex={-1} role="group" aria-label={props.title}>
      <p class="secret-title">{props.title}</p>
      <div class="secret-row">
        <code class="secret-value">{props.value}</code>
        <CopyButton text={props.value} />
      </div>
      {props.children && <p class="hint">{props.children}</p>}
    </div>
  );
}

export function formatTime(iso: string | null): string {
  if (!iso) return '—';
  const date = new Date(iso);
  const sameDay = date.toDateString() === new Date().toDateString();
  return sameDay
    ? date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })
    : date.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

export function formatDate(iso: string | null, never = 'Never'): string {
  if (!iso) return never;
  return new Date(iso).toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
}

export function planLabel(plan: string): string {
  return plan.charAt(0).toUpperCase() + plan.slice(1);
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
