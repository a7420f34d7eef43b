import type { FastifyInstance } from 'fastify';
import type { Runtime } from '../../runtime.js';
import type { Authenticate } from '../routes/types.js';
import { registerAdminRoutes } from './admin-routes.js';
import { registerAuthRoutes } from './auth-routes.js';
import { registerKeysRoutes } from './keys-routes.js';
import { registerSessionEvents } from './session-events.js';
import { registerStaticFiles } from './static-files.js';
import { registerStatsRoutes } from './stats-routes.js';

export { dashboardAuth } from './cookie-auth.js';

/** The dashboard: sign-in routes, the API endpoints only its pages need, and the built pages at `/`. */
export async function registerDashboard(app: FastifyInstance, runtime: Runtime, authenticate: Authenticate): Promise<void> {
  registerAuthRoutes(app, runtime);
  registerKeysRoutes(app, runtime, authenticate);
  registerStatsRoutes(app, runtime, authenticate);
  registerSessionEvents(app, runtime, authenticate);
  registerAdminRoutes(app, runtime, authenticate);
  await registerStaticFiles(app);
}
