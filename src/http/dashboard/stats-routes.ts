import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { dailyCounts } from '../../core/admin.js';
import type { Runtime } from '../../runtime.js';
import { requireAccount } from '../auth.js';
import { answer, DAY_EXAMPLE, DayCountSchema, errors, KEY_AUTH, ref } from '../schemas.js';
import type { Authenticate } from '../routes/types.js';

const StatsQuery = Type.Object({ days: Type.Optional(Type.Integer({ minimum: 1, maximum: 90, default: 7 })) });

/** Messages per day (UTC) for the Overview chart. */
export function registerStatsRoutes(app: FastifyInstance, runtime: Runtime, authenticate: Authenticate): void {
  app.get(
    '/api/v1/stats/daily',
    {
      schema: {
        tags: ['read'],
        operationId: 'dailyStats',
        summary: 'Messages sent, failed and pending per UTC day, oldest first',
        querystring: StatsQuery,
        response: { 200: answer({ days: Type.Array(ref(DayCountSchema)) }, { days: [DAY_EXAMPLE] }), ...errors('invalid_parameter', KEY_AUTH) },
      },
      preHandler: authenticate({ allowQueryKey: false }),
    },
    async (request) => {
      const { days } = request.query as Static<typeof StatsQuery>;
      return { success: true as const, days: await dailyCounts(runtime.store, requireAccount(request).id, days ?? 7, runtime.clock()) };
    },
  );
}
