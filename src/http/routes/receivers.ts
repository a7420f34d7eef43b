import { readFileSync } from 'node:fs';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { AppError } from '../../core/errors.js';
import type { Runtime } from '../../runtime.js';
import { requireAccount } from '../auth.js';
import { answer, errors, KEY_AUTH, NO_SECURITY } from '../schemas.js';
import type { Authenticate } from './types.js';

/** The starter receivers of receivers/ (beside src/ and dist/, so the same path works from both). */
const FOLDER = new URL('../../../receivers/', import.meta.url);
const PLACEHOLDER = 'whsec_REPLACE_ME';

export const RECEIVER_FILES: Readonly<Record<string, string>> = Object.freeze({
  'receiver.php': 'receiver.php',
  'receiver.mjs': 'receiver.mjs',
  'receiver.py': 'receiver.py',
  htaccess: '.htaccess',
});

/** Three lines of instructions per script, shown by /docs and the dashboard. */
export const RECEIVER_GUIDES: ReadonlyArray<{ name: string; title: string; steps: readonly string[] }> = Object.freeze([
  {
    name: 'receiver.php',
    title: 'PHP (shared hosting)',
    steps: [
      'Paste your whsec_… secret into the line marked whsec_REPLACE_ME (or set WEBHOOK_SECRET).',
      'Upload receiver.php and the .htaccess file (download "htaccess") to a folder of your web site.',
      'Put its https URL in Settings as the webhook URL and press Test incoming: a line appears in the webhooks-….log file beside it.',
    ],
  },
  {
    name: 'receiver.mjs',
    title: 'Node.js 18+',
    steps: [
      'Paste your whsec_… secret into the line marked whsec_REPLACE_ME (or set WEBHOOK_SECRET).',
      'Run node receiver.mjs: it listens on 127.0.0.1:8080 (HOST, PORT) behind your HTTPS proxy.',
      'Put the public https URL in Settings and press Test incoming: a line appears in webhooks.log.',
    ],
  },
  {
    name: 'receiver.py',
    title: 'Python 3.8+',
    steps: [
      'Paste your whsec_… secret into the line marked whsec_REPLACE_ME (or set WEBHOOK_SECRET).',
      'Run python3 receiver.py: it listens on 127.0.0.1:8080 (HOST, PORT) behind your HTTPS proxy.',
      'Put the public https URL in Settings and press Test incoming: a line appears in webhooks.log.',
    ],
  },
]);

/** Markdown for the OpenAPI description (rendered at /docs). */
export function receiversMarkdown(): string {
  const items = RECEIVER_GUIDES.map(
    (g) => `- **[${g.name}](/receivers/${g.name})** (${g.title})\n${g.steps.map((step, i) => `  ${i + 1}. ${step}`).join('\n')}`,
  );
  return [
    '**Webhook receivers** (Unlimited plan): small scripts that verify each signature and log every event to a file, one line each. ' +
      'Downloaded here they carry a placeholder secret; `GET /api/v1/webhooks/receivers/{name}` with your key fills in your own.',
    ...items,
  ].join('\n\n');
}

function load(name: string): string {
  const file = RECEIVER_FILES[name];
  if (!file) throw new AppError('not_found', `No receiver named ${name}: use one of ${Object.keys(RECEIVER_FILES).join(', ')}.`);
  return readFileSync(new URL(file, FOLDER), 'utf8');
}

function download(reply: FastifyReply, name: string, body: string): FastifyReply {
  return reply
    .header('content-type', 'text/plain; charset=utf-8')
    .header('content-disposition', `attachment; filename="${RECEIVER_FILES[name]}"`)
    .header('x-content-type-options', 'nosniff')
    .send(body);
}

/**
 * Issue 8: the webhook receiver scripts as downloads. Public with the placeholder secret; through
 * the API (key or dashboard session) with the account's own secret on its one marked line.
 */
export function registerReceiverRoutes(app: FastifyInstance, runtime: Runtime, authenticate: Authenticate): void {
  const names = Object.keys(RECEIVER_FILES);
  const params = Type.Object({ name: Type.String({ enum: names, description: 'htaccess is the .htaccess file to put beside receiver.php' }) });
  const download200 = {
    description: 'The script as a download, with `content-disposition: attachment`',
    content: { 'text/plain': { schema: { type: 'string' }, example: "<?php\n// MessageAPI webhook receiver\n$secret = getenv('WEBHOOK_SECRET') ?: 'whsec_REPLACE_ME';\n" } },
  };

  app.get(
    '/receivers/:name',
    {
      schema: {
        tags: ['webhooks'],
        operationId: 'downloadReceiver',
        summary: 'Download a starter webhook receiver (placeholder secret)',
        description: 'receiver.php (shared hosting, with htaccess as .htaccess beside it), receiver.mjs (node receiver.mjs), receiver.py (python3 receiver.py).',
        params,
        security: NO_SECURITY,
        response: { 200: download200, ...errors('invalid_parameter') },
      },
    },
    async (request, reply) => {
      const { name } = request.params as { name: string };
      return download(reply.header('cache-control', 'public, max-age=300'), name, load(name));
    },
  );

  app.get(
    '/api/v1/webhooks/receivers',
    {
      schema: {
        tags: ['webhooks'],
        operationId: 'listReceivers',
        summary: 'The starter webhook receivers, with download links and three lines of instructions each',
        response: {
          200: answer(
            { receivers: Type.Array(Type.Object({ name: Type.String(), title: Type.String(), steps: Type.Array(Type.String()), publicUrl: Type.String(), url: Type.String() })) },
            {
              receivers: [
                { ...RECEIVER_GUIDES[0], steps: [...RECEIVER_GUIDES[0]!.steps], publicUrl: '/receivers/receiver.php', url: '/api/v1/webhooks/receivers/receiver.php' },
              ],
            },
          ),
          ...errors(KEY_AUTH),
        },
      },
      preHandler: authenticate({ allowQueryKey: false }),
    },
    async () => ({
      success: true as const,
      receivers: RECEIVER_GUIDES.map((g) => ({ ...g, steps: [...g.steps], publicUrl: `/receivers/${g.name}`, url: `/api/v1/webhooks/receivers/${g.name}` })),
    }),
  );

  app.get(
    '/api/v1/webhooks/receivers/:name',
    {
      schema: {
        tags: ['webhooks'],
        operationId: 'downloadOwnReceiver',
        summary: "Download a starter webhook receiver with this account's signing secret filled in",
        params,
        response: { 200: download200, ...errors('invalid_parameter', KEY_AUTH) },
      },
      preHandler: authenticate({ allowQueryKey: false }),
    },
    async (request, reply) => {
      const account = requireAccount(request);
      const { name } = request.params as { name: string };
      const row = await runtime.store.db.selectFrom('accounts').select('webhook_secret').where('id', '=', account.id).executeTakeFirst();
      let body = load(name);
      if (row?.webhook_secret) {
        const secret = runtime.eventDelivery.box.decrypt(row.webhook_secret);
        body = body.replace(PLACEHOLDER, () => secret);
      }
      return download(reply.header('cache-control', 'no-store'), name, body);
    },
  );
}
