import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { createApiKeyWithinLimit, listApiKeys, revokeApiKey } from '../../core/api-keys.js';
import type { Runtime } from '../../runtime.js';
import { requireAccount } from '../auth.js';
import { answer, ApiKeySchema, BODY, CHANGE_AUTH, errors, KEY_AUTH, ref } from '../schemas.js';
import type { Authenticate } from '../routes/types.js';

const KEY_EXAMPLE = { id: 'key_01JDQ6', prefix: 'msg_ab12cd', name: 'shop server', createdAt: '2026-11-30T09:15:00.000Z', lastUsedAt: null, revokedAt: null };

/** The account's own API keys: list by prefix, create (the key is shown once), revoke. */
export function registerKeysRoutes(app: FastifyInstance, runtime: Runtime, authenticate: Authenticate): void {
  const preHandler = authenticate({ allowQueryKey: false });

  app.get(
    '/api/v1/keys',
    {
      schema: {
        tags: ['keys'],
        operationId: 'listKeys',
        summary: 'Your API keys, newest first (prefix only)',
        response: { 200: answer({ keys: Type.Array(ref(ApiKeySchema)) }, { keys: [KEY_EXAMPLE] }), ...errors(KEY_AUTH) },
      },
      preHandler,
    },
    async (request) => ({ success: true as const, keys: await listApiKeys(runtime.store, requireAccount(request).id) }),
  );

  app.post(
    '/api/v1/keys',
    {
      schema: {
        tags: ['keys'],
        operationId: 'createKey',
        summary: 'Create an API key; the answer is the only time the whole key is shown (429 beyond the active keys an account may have)',
        // null: a POST without a body (Fastify validates it as null) makes an unnamed key
        body: Type.Union([
          Type.Object(
            { name: Type.Optional(Type.String({ maxLength: 60, description: 'A name to tell your keys apart, e.g. "shop server"' })) },
            { additionalProperties: false },
          ),
          Type.Null(),
        ]),
        response: {
          200: answer(
            { id: Type.String(), prefix: Type.String(), name: Type.Union([Type.String(), Type.Null()]), apiKey: Type.String() },
            { id: 'key_01JDQ6', prefix: 'msg_ab12cd', name: 'shop server', apiKey: 'msg_ab12cd34ef56gh78ij90kl12mn34op56qr78' },
          ),
          ...errors(CHANGE_AUTH, BODY, 'too_many_requests'),
        },
      },
      preHandler,
    },
    async (request) => {
      const account = requireAccount(request);
      const name = (request.body as { name?: string } | null | undefined)?.name;
      const key = await createApiKeyWithinLimit(runtime.store, account.id, runtime.clock(), runtime.config.accountLimits.apiKeys, name);
      return { success: true as const, id: key.id, prefix: key.prefix, name: key.name, apiKey: key.apiKey };
    },
  );

  app.delete(
    '/api/v1/keys/:id',
    {
      schema: {
        tags: ['keys'],
        operationId: 'revokeKey',
        summary: 'Revoke an API key: requests with it get 401 from then on',
        params: Type.Object({ id: Type.String({ maxLength: 100 }) }),
        response: { 200: answer({}, {}), ...errors(CHANGE_AUTH, 'invalid_parameter', 'not_found') },
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
