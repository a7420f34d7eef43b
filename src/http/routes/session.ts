import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import QRCode from 'qrcode';
import { AppError } from '../../core/errors.js';
import { parseRecipient } from '../../core/recipients.js';
import type { Runtime } from '../../runtime.js';
import type { SessionView } from '../../core/driver-port.js';
import { requireAccount } from '../auth.js';
import { answer, BODY, CHANGE_AUTH, errors, KEY_AUTH, ref, SESSION_EXAMPLE, SessionSchema } from '../schemas.js';
import type { ErrorCode } from '../../core/errors.js';
import type { Authenticate } from './types.js';

const SessionAnswer = Type.Intersect([Type.Object({ success: Type.Literal(true) }), ref(SessionSchema)], { examples: [{ success: true, ...SESSION_EXAMPLE }] });
/** Another server process may hold the session and not answer in time (several processes on PostgreSQL). */
const FORWARDED: ErrorCode[] = ['session_holder_unavailable'];
/** Linking may meet another server process holding the session (409) or WhatsApp out of reach (503). */
const LINK_ERRORS: ErrorCode[] = ['conflict', 'service_unavailable', ...FORWARDED];

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
  const schema = (operationId: string, summary: string, codes: ErrorCode[], extra: Record<string, unknown> = {}) => ({
    tags: ['session'],
    operationId,
    summary,
    response: { 200: SessionAnswer, ...errors(codes) },
    ...extra,
  });

  app.get('/api/v1/session', { schema: schema('getSession', 'The linked WhatsApp session, with the current QR while linking', [...KEY_AUTH, ...FORWARDED]), preHandler }, async (request) =>
    toAnswer(await runtime.sessionCalls.session(requireAccount(request).id)),
  );

  app.post('/api/v1/session/link', { schema: schema('linkSession', 'Start linking: answers with the QR code to scan', [...CHANGE_AUTH, ...BODY, ...LINK_ERRORS]), preHandler }, async (request) =>
    toAnswer(await runtime.sessionCalls.link(requireAccount(request).id)),
  );

  app.post(
    '/api/v1/session/pair',
    { schema: schema('pairSession', 'Link with a pairing code instead of a QR', [...CHANGE_AUTH, ...BODY, 'missing_parameter', 'invalid_recipient', ...LINK_ERRORS], {
        body: Type.Object({ phone: Type.String({ maxLength: 32, description: 'Your own number with country code (12125551234)' }) }),
      }), preHandler },
    async (request) => {
      const { phone } = request.body as { phone: string };
      const parsed = parseRecipient(phone);
      if (parsed.isGroup || parsed.isLid) throw new AppError('invalid_parameter', 'Invalid parameter: phone must be your phone number, not a group id or a LID.');
      return toAnswer(await runtime.sessionCalls.pair(requireAccount(request).id, parsed.value));
    },
  );

  app.post(
    '/api/v1/session/logout',
    { schema: { tags: ['session'], operationId: 'logoutSession', summary: 'Unlink the WhatsApp number', response: { 200: answer({}, {}), ...errors(CHANGE_AUTH, BODY, FORWARDED) } }, preHandler },
    async (request) => {
      await runtime.sessionCalls.logout(requireAccount(request).id);
      return { success: true as const };
    },
  );
}
