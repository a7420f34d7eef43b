import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { readSettings, removeAllowedRecipient, updateSettings, type SettingsDeps } from '../../core/settings.js';
import type { Runtime } from '../../runtime.js';
import { ALL_WEBHOOK_EVENTS } from '../../core/webhook-events.js';
import { requireAccount } from '../auth.js';
import { BODY, CHANGE_AUTH, errors, KEY_AUTH, ref, SETTINGS_EXAMPLE, SettingsSchema } from '../schemas.js';
import type { Authenticate } from './types.js';

const SettingsAnswer = Type.Intersect([Type.Object({ success: Type.Literal(true) }), ref(SettingsSchema)], { examples: [{ success: true, ...SETTINGS_EXAMPLE }] });
const PatchAnswer = Type.Intersect(
  [
    Type.Object({
      success: Type.Literal(true),
      webhookSecret: Type.Optional(Type.String({ description: 'Only when this change gave the account its first secret: shown once' })),
    }),
    ref(SettingsSchema),
  ],
  { examples: [{ success: true, ...SETTINGS_EXAMPLE, webhookSecret: 'whsec_ab12cd34ef56gh78ij90kl12mn34op56' }] },
);
const PatchBody = Type.Object(
  {
    webhookUrl: Type.Optional(Type.Union([Type.Null(), Type.String({ maxLength: 2048 })], { description: 'https URL of your receiver; null or "" removes it' })),
    disconnectEmail: Type.Optional(Type.Boolean()),
    webhookEvents: Type.Optional(
      Type.Array(Type.Union(ALL_WEBHOOK_EVENTS.map((e) => Type.Literal(e))), {
        maxItems: 32,
        description: 'The events your webhook and event log get; the four of the reference are on by default, the others are opt-in',
      }),
    ),
    inlineMediaMaxBytes: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_073_741_824, description: 'Received files up to this size also come inline (base64) in message.received; 0: never' })),
  },
  { additionalProperties: false },
);

export function settingsDeps(runtime: Runtime): SettingsDeps {
  return { store: runtime.store, config: runtime.config, box: runtime.eventDelivery.box };
}

/** SPEC §5 Settings: webhook URL, disconnect e-mails, Personal-plan recipients. */
export function registerSettingsRoutes(app: FastifyInstance, runtime: Runtime, authenticate: Authenticate): void {
  const preHandler = authenticate({ allowQueryKey: false });
  const deps = settingsDeps(runtime);

  app.get(
    '/api/v1/settings',
    {
      schema: { tags: ['settings'], operationId: 'getSettings', summary: 'Your settings: webhook, disconnect e-mails, allowed recipients', response: { 200: SettingsAnswer, ...errors(KEY_AUTH) } },
      preHandler,
    },
    async (request) => ({ success: true as const, ...(await readSettings(deps, requireAccount(request).id)) }),
  );

  app.patch(
    '/api/v1/settings',
    {
      schema: {
        tags: ['settings'],
        operationId: 'updateSettings',
        summary: 'Change the webhook URL (Unlimited), its events, inline media, or switch disconnect e-mails on or off',
        description: 'The first webhook URL comes with a new signing secret, returned once as `webhookSecret`.',
        body: PatchBody,
        response: { 200: PatchAnswer, ...errors(CHANGE_AUTH, BODY, 'invalid_url', 'plan_restriction') },
      },
      preHandler,
    },
    async (request) => {
      const body = (request.body ?? {}) as Static<typeof PatchBody>;
      return { success: true as const, ...(await updateSettings(deps, requireAccount(request), body)) };
    },
  );

  app.delete(
    '/api/v1/settings/recipients/:recipient',
    {
      schema: {
        tags: ['settings'],
        operationId: 'removeAllowedRecipient',
        summary: 'Free a Personal-plan recipient slot',
        params: Type.Object({ recipient: Type.String({ maxLength: 64, description: 'A number from allowedRecipients' }) }),
        response: {
          200: Type.Object({ success: Type.Literal(true), allowedRecipients: Type.Array(Type.String()) }, { examples: [{ success: true, allowedRecipients: ['12125551234'] }] }),
          ...errors(CHANGE_AUTH, 'invalid_parameter', 'invalid_recipient', 'not_found'),
        },
      },
      preHandler,
    },
    async (request) => {
      const account = requireAccount(request);
      await removeAllowedRecipient(deps, account, (request.params as { recipient: string }).recipient);
      const view = await readSettings(deps, account.id);
      return { success: true as const, allowedRecipients: view.allowedRecipients ?? [] };
    },
  );
}
