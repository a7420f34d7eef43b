import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import type { FastifySwaggerUiOptions } from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import { SESSION_COOKIE } from './dashboard/cookie-auth.js';
import { receiversMarkdown } from './routes/receivers.js';
import { OPTIONAL_BODY, SHARED_SCHEMAS } from './schemas.js';

/**
 * Our logo: the dashboard's favicon as the dashboard build ships it (dist/web), which the same path
 * reaches from src/ and from dist/, and which the container image keeps (it has no web/ sources).
 */
const LOGO = new URL('../../dist/web/favicon.svg', import.meta.url);

/** The intro of /docs: authentication first, then a two-line quick start. */
function introduction(baseUrl: string): string {
  return [
    '**Authentication.** Send your API key in the `X-API-Key` header. Only `/send.php` and `/api/v1/status` also take it as the `apikey` query ' +
      '(or form) field, for tools that cannot set headers. Keys are made in the dashboard (API keys) or with `messageapi accounts create`. ' +
      'The dashboard itself signs in with e-mail and password and uses a session cookie; its changes also carry `X-CSRF-Token`.',
    '**Quick start** (replace `msg_…` with your key and the number with yours, country code first):',
    [
      '```',
      `curl -H 'X-API-Key: msg_…' -H 'Content-Type: application/json' -d '{"recipient":"12125551234","text":"Hello"}' ${baseUrl}/api/v1/send`,
      `curl '${baseUrl}/send.php?apikey=msg_…&recipient=12125551234&text=Hello'`,
      '```',
    ].join('\n'),
    '**Errors** are JSON `{"success": false, "error": "…", "code": "…"}`: `error` is a sentence for people, `code` a stable value for programs. ' +
      'Each operation lists the codes it can answer with.',
    receiversMarkdown(),
  ].join('\n\n');
}

export function swaggerOptions(config: Config): FastifyDynamicSwaggerOptions {
  const baseUrl = config.publicUrl ?? `http://localhost:${config.port || 3000}`;
  return {
    openapi: {
      info: {
        title: 'MessageAPI',
        version: '1',
        description: introduction(baseUrl),
        license: { name: 'MIT', url: 'https://opensource.org/licenses/MIT' },
      },
      servers: [{ url: config.publicUrl ?? '/', description: config.publicUrl ? 'This server (PUBLIC_URL)' : 'This server' }],
      tags: [
        { name: 'send', description: 'Send text, images and PDFs' },
        { name: 'read', description: 'Connection, usage and the message log' },
        { name: 'session', description: 'Link and unlink the WhatsApp number' },
        { name: 'settings', description: 'Webhook URL, disconnect e-mails, Personal-plan recipients' },
        { name: 'webhooks', description: 'Signing secret, delivery log, redelivery, starter receivers' },
        { name: 'keys', description: 'Your API keys' },
        { name: 'chats', description: 'Typing indicators and read marks in a chat' },
        { name: 'events', description: 'The event log for receivers that cannot take webhooks: a pull queue and a server-sent event stream' },
        { name: 'sandbox', description: 'Only with WHATSAPP_DRIVER=sandbox: a simulated WhatsApp network' },
        { name: 'admin', description: 'Accounts, for admins' },
        { name: 'dashboard', description: 'Sign-in for the dashboard (session cookie)' },
      ],
      components: {
        securitySchemes: {
          apiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'Your API key (msg_…)' },
          apiKeyQuery: {
            type: 'apiKey',
            in: 'query',
            name: 'apikey',
            description: 'The same key as a query or form field: only /send.php and /api/v1/status take it (it ends up in logs and browser history)',
          },
          dashboardSession: {
            type: 'apiKey',
            in: 'cookie',
            name: SESSION_COOKIE,
            description: 'The dashboard session from POST /auth/login; changes also need the X-CSRF-Token header',
          },
        },
      },
      security: [{ apiKeyHeader: [] }, { dashboardSession: [] }],
    },
    // Success answers get a description (the plugin would write "Default Response"); optional bodies are marked so.
    transformObject: (document) => finishDocument('openapiObject' in document ? document.openapiObject : {}),
    // Shared schemas keep their own names under components.schemas (instead of def-0, def-1…).
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  };
}

/**
 * Hashes of the <style> elements Swagger UI renders itself (its own logo, shown until ours replaces
 * it), so the CSP allows exactly those and no other inline style. Read from the installed bundle,
 * so an upgrade keeps working; the browser test fails if a new inline style appears.
 */
function swaggerUiStyleHashes(): string[] {
  const folder = path.join(path.dirname(createRequire(import.meta.url).resolve('@fastify/swagger-ui')), 'static');
  const hashes = new Set<string>();
  for (const file of ['swagger-ui-bundle.js', 'swagger-ui-standalone-preset.js']) {
    for (const match of readFileSync(path.join(folder, file), 'utf8').matchAll(/createElement\("style",null,"([^"\\]*)"\)/g)) {
      hashes.add(`'sha256-${createHash('sha256').update(match[1]!).digest('base64')}'`);
    }
  }
  return [...hashes];
}

/**
 * /docs: our name and logo, and a CSP that works over plain HTTP on any host name (the plugin's
 * default carries upgrade-insecure-requests, which makes browsers fetch its CSS and JS over HTTPS).
 */
export function swaggerUiOptions(): FastifySwaggerUiOptions {
  const logo = readFileSync(LOGO);
  return {
    routePrefix: '/docs',
    logo: { type: 'image/svg+xml', content: logo, href: '/docs', target: '_self' },
    theme: {
      title: 'MessageAPI API reference',
      favicon: [{ filename: 'favicon.svg', rel: 'icon', sizes: 'any', type: 'image/svg+xml', content: logo }],
    },
    uiConfig: { deepLinking: true, defaultModelsExpandDepth: 0 },
    staticCSP: [
      "default-src 'self'",
      "base-uri 'self'",
      "frame-ancestors 'self'",
      "img-src 'self' data:",
      "object-src 'none'",
      "script-src 'self'",
      "script-src-attr 'none'",
      `style-src 'self' ${swaggerUiStyleHashes().join(' ')}`,
      "font-src 'self' data:",
      "connect-src 'self'",
      "form-action 'self'",
    ].join('; '),
  };
}

type Document = ReturnType<NonNullable<FastifyDynamicSwaggerOptions['transformObject']>>;

interface OperationObject {
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: { allOf?: unknown[]; description?: string } }> }>;
  requestBody?: { required?: boolean };
  [OPTIONAL_BODY]?: boolean;
}

function finishDocument<T extends Document>(document: T): T {
  const paths = (document as { paths?: Record<string, Record<string, OperationObject>> }).paths ?? {};
  for (const operations of Object.values(paths)) {
    for (const operation of Object.values(operations)) {
      if (operation[OPTIONAL_BODY]) {
        if (operation.requestBody) operation.requestBody.required = false;
        delete operation[OPTIONAL_BODY];
      }
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        if (status.startsWith('2') && response.description === 'Default Response') response.description = 'Success: `success` is true';
        // A shared schema wrapped in allOf only to carry its examples (see refAnswer, errors) is the schema itself.
        for (const media of Object.values(response.content ?? {})) {
          const schema = media.schema;
          if (schema?.allOf?.length === 1 && Object.keys(schema).every((key) => key === 'allOf' || key === 'description')) media.schema = schema.allOf[0] as typeof schema;
        }
      }
    }
  }
  return document;
}

export function registerSharedSchemas(app: FastifyInstance): void {
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);
}
