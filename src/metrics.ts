import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { outboxDepth } from './core/outbox.js';
import type { Store } from './store/store.js';

/** One registry per app instance, so that several apps in one process (tests) do not collide. */
export function createMetrics(store: Store) {
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
  return { registry, httpRequests, messagesTotal, dispatchLatency };
}

export type Metrics = ReturnType<typeof createMetrics>;
