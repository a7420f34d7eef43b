import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { createApiKey, listApiKeys, revokeApiKey } from '../../core/api-keys.js';
import type { Runtime } from '../../runtime.js';
import { requireAccount } from '../auth.js';
import { errorResponses } from '../schemas.js';
import type { Authenticate } from '../routes/types.js';

const KeyView = Type.Object({
  id: Type.String(),
  prefix: Type.String(),
  name: Type.Union([Type.String(), Type.Null()], { description: 'The name given at creation, or null' }),
  createdAt: Type.String(),
  lastUsedAt: Type.Union([Type.String(), Type.Null()]),
  revokedAt: Type.Union([Type.String(), Type.Null()]),
});

/** The account's own API keys: list by prefix, create (the key is shown once), revoke. */
export function registerKeysRoutes(app: FastifyInstance, runtime: Runtime, authenticate: Authenticate): void {
  const preHandler = authenticate({ allowQueryKey: false });

  app.get(
    '/api/v1/keys',
    { schema: { tags: ['keys'], summary: 'Your API keys, newest first (prefix only)', response: { 200: Type.Object({ success: Type.Literal(true), keys: Type.Array(KeyView) }), ...errorResponses } }, preHandler },
    async (request) => ({ success: true as const, keys: await listApiKeys(runtime.store, requireAccount(request).id) }),
  );

  app.post(
    '/api/v1/keys',
    {
      schema: {
        tags: ['keys'],
        summary: 'Create an API key; the answer is the only time the whole key is shown',
        // null: a POST without a body (Fastify validates it as null) makes an unnamed key
        body: Type.Union([
          Type.Object(
            { name: Type.Optional(Type.String({ maxLength: 60, description: 'A name to tell your keys apart, e.g. "shop server"' })) },
            { additionalProperties: false },
          ),
          Type.Null(),
        ]),
        response: {
          200: Type.Object({ success: Type.Literal(true), id: Type.String(), prefix: Type.String(), name: Type.Union([Type.String(), Type.Null()]), apiKey: Type.String() }),
          ...errorResponses,
        },
      },
      preHandler,
    },
    async (request) => {
      const account = requireAccount(request);
      const name = (request.body as { name?: string } | null | undefined)?.name;
      const key = await runtime.store.write((tx) => createApiKey(tx, account.id, runtime.clock(), name));
      return { success: true as const, id: key.id, prefix: key.prefix, name: key.name, apiKey: key.apiKey };
    },
  );

  app.delete(
    '/api/v1/keys/:id',
    {
      schema: {
        tags: ['keys'],
        summary: 'Revoke an API key: requests with it get 401 from then on',
        params: Type.Object({ id: Type.String({ maxLength: 100 }) }),
        response: { 200: Type.Object({ success: Type.Literal(true) }), ...errorResponses },
      },
      preHandler,
    },
    async (request) => {
      const { id } = request.params as { id: string };
      await revokeApiKey(runtime.store, id, runtime.clock(), requireAccount(request).id);
      return { success: true as const };
    },
  );
}
