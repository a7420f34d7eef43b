import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { serveNotFoundPageToBrowsers } from '../error-handler.js';

/** Where `vite build` puts the dashboard (the same place from src/ under vitest and from dist/ in production). */
export const WEB_ROOT = fileURLToPath(new URL('../../../dist/web/', import.meta.url));

/** The dashboard's pages: each is the same index.html, the browser picks the page from the path. */
export const PAGE_PATHS = [
  '/',
  '/login',
  '/setup',
  '/signup',
  '/connection',
  '/keys',
  '/webhooks',
  '/groups',
  '/messages',
  '/inbox',
  '/recipients',
  '/quick-start',
  '/account',
  '/admin',
  '/admin/accounts/:id',
];

/** Scripts, styles, images and connections from this server only; no inline code, no framing. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "media-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

function securityHeaders(reply: FastifyReply | { setHeader(name: string, value: string): void }): void {
  const set = (name: string, value: string) => ('setHeader' in reply ? reply.setHeader(name, value) : reply.header(name, value));
  set('content-security-policy', CONTENT_SECURITY_POLICY);
  set('x-content-type-options', 'nosniff');
  set('x-frame-options', 'DENY');
  set('referrer-policy', 'no-referrer');
  set('cross-origin-opener-policy', 'same-origin');
}

/** Serves the built dashboard at `/` (the API stays at /api/v1). */
export async function registerStaticFiles(app: FastifyInstance, root: string = WEB_ROOT): Promise<void> {
  const index = path.join(root, 'index.html');
  if (!fs.existsSync(index)) {
    for (const page of PAGE_PATHS) {
      app.get(page, { schema: { hide: true } }, async (_request, reply) => {
        securityHeaders(reply);
        return reply
          .code(503)
          .type('text/html; charset=utf-8')
          .send('<!doctype html><title>MessageAPI</title><p>The dashboard has not been built. Run <code>npm run build</code> and restart. The API is at /api/v1 (see /docs).</p>');
      });
    }
    return;
  }

  await app.register(fastifyStatic, {
    root,
    prefix: '/',
    wildcard: false,
    index: false,
    serve: true,
    cacheControl: false,
    setHeaders: (res, filePath) => {
      securityHeaders(res);
      res.setHeader('cache-control', filePath.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  const html = fs.readFileSync(index);
  for (const page of PAGE_PATHS) {
    app.get(page, { schema: { hide: true } }, async (_request, reply) => {
      securityHeaders(reply);
      return reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(html);
    });
  }
  // Any other path a browser opens: the same pages, which show their not-found page, with a 404 status.
  serveNotFoundPageToBrowsers(app, (reply) => {
    securityHeaders(reply);
    return reply.code(404).header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(html);
  });
}
