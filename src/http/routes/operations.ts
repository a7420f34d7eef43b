import { createHash, timingSafeEqual } from 'node:crypto';
import { sql } from 'kysely';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.js';
import type { Runtime } from '../../runtime.js';

/** Health, readiness and metrics for whoever runs the server. */
export function registerOperationsRoutes(app: FastifyInstance, runtime: Runtime): void {
  // Probed every few seconds by container health checks and load balancers: not a request line each time.
  app.get('/healthz', { schema: { hide: true }, logLevel: 'warn' }, async () => ({ success: true, status: 'ok' }));

  app.get('/readyz', { schema: { hide: true } }, async () => {
    try {
      await sql`select 1`.execute(runtime.store.db);
    } catch {
      throw new AppError('service_unavailable', 'The database is not reachable.');
    }
    if ((await runtime.store.pendingMigrations()) > 0) throw new AppError('service_unavailable', 'Database migrations have not run yet.');
    const ownership = runtime.ownership;
    const held = ownership.heldLeases();
    // This process's share of the WhatsApp sessions, as counts: /readyz answers anyone who can reach
    // it, so which accounts are held is for `messageapi sessions` on the server, not for this page.
    const leases = { process: ownership.id, held: held.length, sending: held.filter((l) => ownership.sendToken(l.accountId) !== null).length };
    return { success: true, status: 'ready', leases };
  });

  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    if (runtime.config.metricsToken !== undefined) requireMetricsToken(request, runtime.config.metricsToken);
    reply.type(runtime.metrics.registry.contentType);
    return runtime.metrics.registry.metrics();
  });
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/** METRICS_TOKEN set: /metrics answers only `Authorization: Bearer <token>` (compared in constant time). */
function requireMetricsToken(request: FastifyRequest, token: string): void {
  const given = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
  if (given === undefined || !timingSafeEqual(digest(given), digest(token))) {
    throw new AppError('unauthorized', 'The metrics need a token: send Authorization: Bearer <METRICS_TOKEN>.', { headers: { 'www-authenticate': 'Bearer' } });
  }
}
