import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import QRCode from 'qrcode';
import { AppError } from '../../core/errors.js';
import { parseRecipient } from '../../core/recipients.js';
import type { Runtime } from '../../runtime.js';
import type { SessionView } from '../../core/driver-port.js';
import { requireAccount } from '../auth.js';
import { errorResponses } from '../schemas.js';
import type { Authenticate } from './types.js';

const SessionAnswer = Type.Object({
  success: Type.Literal(true),
  state: Type.String(),
  phone: Type.Union([Type.String(), Type.Null()]),
  reason: Type.Union([Type.String(), Type.Null()]),
  detail: Type.Union([Type.String(), Type.Null()]),
  qr: Type.Union([Type.String(), Type.Null()]),
  qrDataUrl: Type.Union([Type.String(), Type.Null()]),
  pairingCode: Type.Union([Type.String(), Type.Null()]),
});

async function toAnswer(view: SessionView) {
  return {
    success: true as const,
    state: view.state,
    phone: view.phone,
    reason: view.reason,
    detail: view.detail,
    qr: view.qr,
    qrDataUrl: view.qr ? await QRCode.toDataURL(view.qr, { margin: 1, width: 264 }) : null,
    pairingCode: view.pairingCode,
  };
}

export function registerSessionRoutes(app: FastifyInstance, runtime: Runtime, authenticate: Authenticate): void {
  const preHandler = authenticate({ allowQueryKey: false });
  const schema = (summary: string, extra: Record<string, unknown> = {}) => ({
    tags: ['session'],
    summary,
    response: { 200: SessionAnswer, ...errorResponses },
    ...extra,
  });

  app.get('/api/v1/session', { schema: schema('The linked WhatsApp session, with the current QR while linking'), preHandler }, async (request) =>
    toAnswer(await runtime.driver.session(requireAccount(request).id)),
  );

  app.post('/api/v1/session/link', { schema: schema('Start linking: answers with the QR code to scan'), preHandler }, async (request) =>
    toAnswer(await runtime.driver.link(requireAccount(request).id)),
  );

  app.post(
    '/api/v1/session/pair',
    { schema: schema('Link with a pairing code instead of a QR', { body: Type.Object({ phone: Type.String({ maxLength: 32 }) }) }), preHandler },
    async (request) => {
      const { phone } = request.body as { phone: string };
      const parsed = parseRecipient(phone);
      if (parsed.isGroup) throw new AppError('invalid_parameter', 'Invalid parameter: phone must be your phone number, not a group id.');
      return toAnswer(await runtime.driver.pair(requireAccount(request).id, parsed.value));
    },
  );

  app.post(
    '/api/v1/session/logout',
    { schema: { tags: ['session'], summary: 'Unlink the WhatsApp number', response: { 200: Type.Object({ success: Type.Literal(true) }), ...errorResponses } }, preHandler },
    async (request) => {
      await runtime.driver.logout(requireAccount(request).id);
      return { success: true as const };
    },
  );
}
