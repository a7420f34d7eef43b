import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../core/errors.js';
import { decodeCursor, DEFAULT_PAGE_SIZE } from '../../core/pagination.js';
import { parseRecipient } from '../../core/recipients.js';
import type { Runtime } from '../../runtime.js';
import { listSandboxSends, SandboxDriver } from '../../whatsapp/sandbox/sandbox-driver.js';
import { requireAccount } from '../auth.js';
import { answer, BODY, CHANGE_AUTH, errors, KEY_AUTH, PageQuery } from '../schemas.js';
import type { Authenticate } from './types.js';
import { ContentSummarySchema } from '../message-content-schema.js';

const IncomingBody = Type.Object({
  from: Type.String({ maxLength: 32 }),
  text: Type.String({ maxLength: 65_536 }),
  groupId: Type.Optional(Type.String({ maxLength: 64 })),
  pushName: Type.Optional(Type.String({ maxLength: 100 })),
});
const DisconnectBody = Type.Object({ reason: Type.Union([Type.Literal('logged_out'), Type.Literal('connection_lost')]) });
const SendsQuery = Type.Object(PageQuery);

/** SPEC §8: only in sandbox mode; elsewhere these paths do not exist. */
export function registerSandboxRoutes(app: FastifyInstance, runtime: Runtime, authenticate: Authenticate): void {
  const driver = runtime.driver;
  if (!(driver instanceof SandboxDriver)) return;
  const preHandler = authenticate({ allowQueryKey: false });

  app.post(
    '/api/v1/sandbox/incoming',
    {
      schema: {
        tags: ['sandbox'],
        operationId: 'sandboxIncoming',
        summary: 'Simulate someone writing to the linked number',
        body: IncomingBody,
        response: { 200: answer({ id: Type.String() }, { id: 'SANDBOX3EB0C431' }), ...errors(CHANGE_AUTH, BODY, 'missing_parameter', 'invalid_recipient') },
      },
      preHandler,
    },
    async (request) => {
      const account = requireAccount(request);
      const body = request.body as Static<typeof IncomingBody>;
      const from = parseRecipient(body.from);
      if (from.isGroup) throw new AppError('invalid_parameter', 'Invalid parameter: from must be a phone number; put the group in groupId.');
      let groupId: string | undefined;
      if (body.groupId !== undefined) {
        const group = parseRecipient(body.groupId);
        if (!group.isGroup) throw new AppError('invalid_parameter', 'Invalid parameter: groupId must be a group id ending in @g.us.');
        groupId = group.value;
      }
      const id = await driver.simulateIncoming(account.id, { from: from.value, text: body.text, groupId, pushName: body.pushName });
      return { success: true as const, id };
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
