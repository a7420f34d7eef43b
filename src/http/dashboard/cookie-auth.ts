import type {} from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { requireEnabled } from '../../core/accounts.js';
import { csrfMatches, findBrowserSession, SESSION_IDLE_MS, type BrowserSession } from '../../core/browser-sessions.js';
import { AppError } from '../../core/errors.js';
import type { Runtime } from '../../runtime.js';
import type { AlternativeAuth } from '../auth.js';

declare module 'fastify' {
  interface FastifyRequest {
    browserSession?: BrowserSession | null;
  }
}

export const SESSION_COOKIE = 'messageapi_session';
export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The browser session behind the request's cookie (looked up once per request). */
export async function browserSessionOf(runtime: Runtime, request: FastifyRequest): Promise<BrowserSession | undefined> {
  if (request.browserSession !== undefined) return request.browserSession ?? undefined;
  const token = request.cookies?.[SESSION_COOKIE];
  const session = token ? await findBrowserSession(runtime.store, token, runtime.clock()) : undefined;
  request.browserSession = session ?? null;
  return session;
}

/** The cookie's session when its account may act: 401 when signed out, 403 `account_disabled` when disabled. */
export async function requireSignedIn(runtime: Runtime, request: FastifyRequest): Promise<BrowserSession> {
  const session = await browserSessionOf(runtime, request);
  if (!session) throw new AppError('unauthorized', 'You are not signed in.');
  requireEnabled(session.account);
  requireCsrf(request, session);
  return session;
}

/** Every state change made with the cookie must carry the session's CSRF token in X-CSRF-Token. */
export function requireCsrf(request: FastifyRequest, session: BrowserSession): void {
  if (SAFE_METHODS.has(request.method)) return;
  if (!csrfMatches(session.csrfToken, request.headers[CSRF_HEADER])) {
    throw new AppError('csrf_failed', 'This change was refused: the X-CSRF-Token header is missing or wrong. Reload the page and try again.');
  }
}

/**
 * The dashboard's cookie as a way into /api/v1 (SPEC §4): only there, so that a link to
 * /send.php cannot send a message in a signed-in browser's name.
 */
export function dashboardAuth(runtime: Runtime): AlternativeAuth {
  return async (request) => {
    if (!request.url.startsWith('/api/v1/')) return undefined;
    const session = await browserSessionOf(runtime, request);
    if (!session) return undefined;
    requireEnabled(session.account);
    requireCsrf(request, session);
    return session.account;
  };
}

export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, token: string): void {
  reply.setCookie(SESSION_COOKIE, token, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: request.protocol === 'https',
    maxAge: Math.floor(SESSION_IDLE_MS / 1000),
  });
}

export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax', secure: request.protocol === 'https' });
}
