import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { outboxDepth } from './core/outbox.js';
import type { Store } from './store/store.js';
import type { SessionOwnership } from './core/scale-out/session-ownership.js';

/** One registry per app instance, so that several apps in one process (tests) do not collide. */
export function createMetrics(store: Store, ownership?: SessionOwnership) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const httpRequests = new Counter({
    name: 'messageapi_http_requests_total',
    help: 'HTTP requests by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const messagesTotal = new Counter({
    name: 'messageapi_messages_total',
    help: 'Messages by final status (accepted counts every logged message)',
    labelNames: ['status'] as const,
    registers: [registry],
  });
  const dispatchLatency = new Histogram({
    name: 'messageapi_dispatch_latency_seconds',
    help: 'Time from a message being accepted to its outcome being recorded',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const forwardedCalls = new Counter({
    name: 'messageapi_forwarded_calls_total',
    help: 'Session calls this process forwarded to the process holding the session (PostgreSQL, several processes), by call and outcome (answered, error, timeout)',
    labelNames: ['call', 'outcome'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'messageapi_outbox_depth',
    help: 'Jobs waiting in the outbox, by kind',
    labelNames: ['kind'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const { kind, count } of await outboxDepth(store)) this.set({ kind }, count);
    },
  });
  if (ownership) {
    // Per process: each process answers for its own leases (the `process` label names it).
    const labels = { process: ownership.id };
    new Gauge({
      name: 'messageapi_sessions_held',
      help: 'WhatsApp sessions whose lease this process holds',
      labelNames: ['process'] as const,
      registers: [registry],
      collect() {
        this.set(labels, ownership.heldLeases().length);
      },
    });
    const counted = (name: string, help: string, read: () => number) =>
      new Counter({
        name,
        help,
        labelNames: ['process'] as const,
        registers: [registry],
        collect() {
          this.reset();
          this.inc(labels, read());
        },
      });
    counted('messageapi_session_lease_renewals_total', 'Session lease renewals by this process', () => ownership.stats.renewals);
    counted('messageapi_session_takeovers_total', 'Sessions this process took (free, expired, or handed back by another process)', () => ownership.stats.takeovers);
    counted('messageapi_session_handbacks_total', 'Sessions this process handed back (over its fair share, or stopping)', () => ownership.stats.handedBack);
    counted('messageapi_session_leases_lost_total', 'Sessions another process took from this one (it renewed too late)', () => ownership.stats.lost);
  }
  return { registry, httpRequests, messagesTotal, dispatchLatency, forwardedCalls };
}

export type Metrics = ReturnType<typeof createMetrics>;
