import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../core/errors.js';
import { decodeCursor, DEFAULT_PAGE_SIZE } from '../../core/pagination.js';
import type { Runtime } from '../../runtime.js';
import { listSandboxSends, SandboxDriver } from '../../whatsapp/sandbox/sandbox-driver.js';
import { requireAccount } from '../auth.js';
import { answer, BODY, CHANGE_AUTH, errors, KEY_AUTH, PageQuery } from '../schemas.js';
import type { Authenticate } from './types.js';
import type { RestrictionsReport } from '../../core/restrictions/restrictions.js';
import { ContentSummarySchema } from '../message-content-schema.js';
import { IncomingBody, readIncoming, type IncomingInput } from '../sandbox-incoming-input.js';

const ReceiptBody = Type.Object({
  messageId: Type.String({ maxLength: 100, description: 'A sent message (its messageId)' }),
  status: Type.Union([Type.Literal('delivered'), Type.Literal('read'), Type.Literal('played')]),
});
const DisconnectBody = Type.Object({ reason: Type.Union([Type.Literal('logged_out'), Type.Literal('connection_lost')]) });
const SendsQuery = Type.Object(PageQuery);
const RestrictionsBody = Type.Object({
  timelockUntil: Type.Optional(
    Type.Union([Type.Null(), Type.String({ maxLength: 40 })], { description: 'ISO time the simulated reach-out timelock ends; null lifts it' }),
  ),
  capUsed: Type.Optional(Type.Integer({ minimum: 0 })),
  capTotal: Type.Optional(Type.Integer({ minimum: 0 })),
  cycleEndsAt: Type.Optional(Type.String({ maxLength: 40 })),
});

function isoTime(value: string, name: string): number {
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(ms)) throw new AppError('invalid_parameter', `Invalid parameter: ${name} must be an ISO 8601 time.`);
  return ms;
}

/** SPEC §8: only in sandbox mode; elsewhere these paths do not exist. */
export function registerSandboxRoutes(app: FastifyInstance, runtime: Runtime, authenticate: Authenticate): void {
  const driver = runtime.driver;
  if (!(driver instanceof SandboxDriver)) return;
  const preHandler = authenticate({ allowQueryKey: false });

  // A media file comes as base64 in the body: room for the largest file the server keeps.
  const incomingBodyLimit = Math.max(runtime.config.bodyLimitBytes, Math.ceil((runtime.config.inboundMedia.maxBytes * 4) / 3) + 64 * 1024);
  app.post(
    '/api/v1/sandbox/incoming',
    {
      bodyLimit: incomingBodyLimit,
      schema: {
        tags: ['sandbox'],
        operationId: 'sandboxIncoming',
        summary: 'Simulate someone writing to the linked number: any kind, a reply, a reaction, an edit, a delete or a poll vote',
        body: IncomingBody,
        response: {
          200: answer(
            { id: Type.Optional(Type.String()), messageId: Type.Optional(Type.String()) },
            { id: 'SANDBOX3EB0C431', messageId: '0b7c1f7e-3f4e-4d36-9d0a-5d1c2b3a4f5e' },
          ),
          ...errors(CHANGE_AUTH, BODY, 'missing_parameter', 'invalid_recipient', 'not_found'),
        },
      },
      preHandler,
    },
    async (request) => {
      const account = requireAccount(request);
      const arrival = await readIncoming(runtime.store, account.id, request.body as IncomingInput);
      if ('change' in arrival) {
        await driver.simulateChange(account.id, arrival.change);
        return { success: true as const };
      }
      return { success: true as const, ...(await driver.simulateIncoming(account.id, arrival.message)) };
    },
  );

  app.post(
    '/api/v1/sandbox/receipt',
    {
      schema: {
        tags: ['sandbox'],
        operationId: 'sandboxReceipt',
        summary: "Simulate the recipient's phone reporting a sent message delivered, read or played",
        body: ReceiptBody,
        response: { 200: answer({}, {}), ...errors(CHANGE_AUTH, BODY, 'missing_parameter', 'not_found') },
      },
      preHandler,
    },
    async (request) => {
      const account = requireAccount(request);
      const body = request.body as Static<typeof ReceiptBody>;
      const row = await runtime.store.db
        .selectFrom('messages')
        .select(['wa_message_id', 'status'])
        .where('id', '=', body.messageId)
        .where('account_id', '=', account.id)
        .where('direction', '=', 'out')
        .executeTakeFirst();
      if (!row) throw new AppError('not_found', `No sent message with id ${body.messageId} in this account.`);
      if (row.status !== 'sent') throw new AppError('invalid_parameter', `Invalid parameter: messageId — message ${body.messageId} is ${row.status}, so no phone has it to report on.`);
      await driver.simulateReceipt(account.id, row.wa_message_id, body.status);
      return { success: true as const };
    },
  );

  app.post(
    '/api/v1/sandbox/disconnect',
    {
      schema: {
        tags: ['sandbox'],
        operationId: 'sandboxDisconnect',
        summary: 'Simulate the session ending (logged out on the phone, or lost)',
        body: DisconnectBody,
        response: { 200: answer({}, {}), ...errors(CHANGE_AUTH, BODY, 'missing_parameter') },
      },
      preHandler,
    },
    async (request) => {
      const account = requireAccount(request);
      await driver.simulateDisconnect(account.id, (request.body as Static<typeof DisconnectBody>).reason);
      return { success: true as const };
    },
  );

  app.post(
    '/api/v1/sandbox/restrictions',
    {
      schema: {
        tags: ['sandbox'],
        operationId: 'sandboxRestrictions',
        summary: 'Simulate WhatsApp restricting the number (reach-out timelock) and its new-chat cap',
        description: 'Raises what the real driver raises when WhatsApp reports its limits: `restrictions` on GET /api/v1/status, the refusal of new chats while the timelock holds, `account.restricted` / `account.restriction_lifted` and the e-mail.',
        body: RestrictionsBody,
        response: { 200: answer({}, {}), ...errors(CHANGE_AUTH, BODY, 'invalid_parameter') },
      },
      preHandler,
    },
    async (request) => {
      const account = requireAccount(request);
      const body = request.body as Static<typeof RestrictionsBody>;
      const report: RestrictionsReport = {};
      if (body.timelockUntil !== undefined) {
        report.timelock = body.timelockUntil === null ? { active: false, until: null } : { active: true, until: isoTime(body.timelockUntil, 'timelockUntil') };
      }
      if (body.capUsed !== undefined || body.capTotal !== undefined || body.cycleEndsAt !== undefined) {
        report.cap = { used: body.capUsed ?? null, total: body.capTotal ?? null, cycleEndsAt: body.cycleEndsAt === undefined ? null : isoTime(body.cycleEndsAt, 'cycleEndsAt') };
      }
      await driver.simulateRestrictions(account.id, report);
      return { success: true as const };
    },
  );

  app.get(
    '/api/v1/sandbox/sends',
    {
      schema: {
        tags: ['sandbox'],
        operationId: 'sandboxSends',
        summary: 'Every send that reached the simulated network, oldest first (duplicates included)',
        querystring: SendsQuery,
        response: {
          200: answer(
            {
              sends: Type.Array(Type.Object({ messageId: Type.String(), waMessageId: Type.String(), recipient: Type.String(), type: Type.String(), at: Type.String(), content: ContentSummarySchema })),
              nextCursor: Type.Union([Type.String(), Type.Null()]),
            },
            { sends: [{ messageId: 'msg_01JDQ7Z3K9W2', waMessageId: 'SANDBOX3EB0C431', recipient: '12125551234', type: 'text', at: '2026-11-30T09:15:00.000Z', content: { text: 'Hello', fileName: null, media: null } }], nextCursor: null },
          ),
          ...errors('invalid_parameter', KEY_AUTH),
        },
      },
      preHandler,
    },
    async (request) => {
      const account = requireAccount(request);
      const query = request.query as Static<typeof SendsQuery>;
      const limit = query.limit ?? DEFAULT_PAGE_SIZE;
      const page = await listSandboxSends(runtime.store, account.id, limit, query.cursor ? decodeCursor(query.cursor) : null);
      return {
        success: true as const,
        sends: page.page.map((r) => ({
          messageId: r.message_id,
          waMessageId: r.wa_message_id,
          recipient: r.recipient,
          type: r.kind,
          at: new Date(r.at).toISOString(),
          content: r.content === null ? null : (JSON.parse(r.content) as unknown),
        })),
        nextCursor: page.nextCursor,
      };
    },
  );
}
