import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../core/errors.js';
import type { Runtime } from '../../runtime.js';

/** Health, readiness and metrics for whoever runs the server. */
export function registerOperationsRoutes(app: FastifyInstance, runtime: Runtime): void {
  app.get('/healthz', { schema: { hide: true } }, async () => ({ success: true, status: 'ok' }));

  app.get('/readyz', { schema: { hide: true } }, async () => {
    try {
      await sql`select 1`.execute(runtime.store.db);
    } catch {
      throw new AppError('service_unavailable', 'The database is not reachable.');
    }
    if ((await runtime.store.pendingMigrations()) > 0) throw new AppError('service_unavailable', 'Database migrations have not run yet.');
    return { success: true, status: 'ready' };
  });

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    reply.type(runtime.metrics.registry.contentType);
    return runtime.metrics.registry.metrics();
  });
}
