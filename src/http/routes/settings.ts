import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { readSettings, removeAllowedRecipient, updateSettings, type SettingsDeps } from '../../core/settings.js';
import type { Runtime } from '../../runtime.js';
import { requireAccount } from '../auth.js';
import { errorResponses } from '../schemas.js';
import type { Authenticate } from './types.js';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

export const SettingsSchema = {
  email: Type.String(),
  plan: Type.String(),
  webhookUrl: Nullable(Type.String()),
  webhookSecretPrefix: Nullable(Type.String({ description: 'The start of the signing secret, e.g. whsec_ab12' })),
  webhookState: Type.Union([Type.Literal('none'), Type.Literal('active'), Type.Literal('stopped')], {
    description: '`stopped`: the receiver answered 410 Gone, so deliveries stopped; set the URL again to resume',
  }),
  webhookStoppedAt: Nullable(Type.String()),
  disconnectEmail: Type.Boolean(),
  mailConfigured: Type.Boolean({ description: 'false when the server has no SMTP_URL: no disconnect e-mails are sent' }),
  allowedRecipients: Type.Optional(Type.Array(Type.String(), { description: 'Personal plan only' })),
};

const SettingsAnswer = Type.Object({ success: Type.Literal(true), ...SettingsSchema });
const PatchAnswer = Type.Object({
  success: Type.Literal(true),
  ...SettingsSchema,
  webhookSecret: Type.Optional(Type.String({ description: 'Only when this change gave the account its first secret: shown once' })),
});
const PatchBody = Type.Object(
  {
    webhookUrl: Type.Optional(Type.Union([Type.Null(), Type.String({ maxLength: 2048 })], { description: 'https URL of your receiver; null or "" removes it' })),
    disconnectEmail: Type.Optional(Type.Boolean()),
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
    { schema: { tags: ['settings'], summary: 'Your settings: webhook, disconnect e-mails, allowed recipients', response: { 200: SettingsAnswer, ...errorResponses } }, preHandler },
    async (request) => ({ success: true as const, ...(await readSettings(deps, requireAccount(request).id)) }),
  );

  app.patch(
    '/api/v1/settings',
    {
      schema: {
        tags: ['settings'],
        summary: 'Change the webhook URL (Unlimited) or switch disconnect e-mails on or off',
        description: 'The first webhook URL comes with a new signing secret, returned once as `webhookSecret`.',
        body: PatchBody,
        response: { 200: PatchAnswer, ...errorResponses },
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
        summary: 'Free a Personal-plan recipient slot',
        params: Type.Object({ recipient: Type.String({ maxLength: 64 }) }),
        response: { 200: Type.Object({ success: Type.Literal(true), allowedRecipients: Type.Array(Type.String()) }), ...errorResponses },
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
