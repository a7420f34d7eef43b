import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createAccount, type Account } from '../../core/accounts.js';
import { findAccountByEmail, setPassword } from '../../core/admin.js';
import { createBrowserSession, endAllBrowserSessions, endBrowserSession, pruneBrowserSessions } from '../../core/browser-sessions.js';
import { AppError } from '../../core/errors.js';
import { checkLoginAllowed, clearLoginFailures, pruneLoginAttempts, recordLoginFailure, throttleKeys } from '../../core/login-throttle.js';
import { checkPasswordPolicy, decoyHash, hashPassword, verifyPassword } from '../../core/passwords.js';
import { consumeSetupToken, hasAnyAccount } from '../../core/setup-token.js';
import type { Runtime } from '../../runtime.js';
import { errorResponses } from '../schemas.js';
import { browserSessionOf, clearSessionCookie, requireCsrf, SESSION_COOKIE, setSessionCookie } from './cookie-auth.js';

const Email = Type.String({ maxLength: 254, minLength: 3 });
const Password = Type.String({ maxLength: 256, minLength: 1 });
const LoginBody = Type.Object({ email: Email, password: Password });
const SetupBody = Type.Object({ token: Type.String({ maxLength: 200, minLength: 1 }), email: Email, password: Password });
const PasswordBody = Type.Object({ currentPassword: Password, newPassword: Password });

const AccountView = Type.Object({ id: Type.String(), email: Type.String(), plan: Type.String(), isAdmin: Type.Boolean() });
const SignedIn = Type.Object({ success: Type.Literal(true), csrfToken: Type.String(), account: AccountView, apiKey: Type.Optional(Type.String()) });
const Ok = Type.Object({ success: Type.Literal(true) });

const accountView = (a: Pick<Account, 'id' | 'email' | 'plan' | 'isAdmin'>) => ({ id: a.id, email: a.email, plan: a.plan, isAdmin: a.isAdmin });

/** The base URL people should paste into their code: PUBLIC_URL, or what this request came in on. */
export function baseUrlOf(runtime: Runtime, request: FastifyRequest): string {
  return runtime.config.publicUrl ?? `${request.protocol}://${request.host}`;
}

/** Sign-in, first-run setup, sign-up and sign-out for the dashboard. JSON only, so a plain HTML form elsewhere cannot post here. */
export function registerAuthRoutes(app: FastifyInstance, runtime: Runtime): void {
  const store = runtime.store;
  const schema = (summary: string, body: unknown, ok: unknown = SignedIn) => ({ tags: ['dashboard'], summary, body, response: { 200: ok, ...errorResponses } });

  app.addHook('preValidation', async (request) => {
    if (!request.url.startsWith('/auth/') || request.method !== 'POST') return;
    const type = request.headers['content-type'];
    if (typeof type !== 'string' || !/^application\/json\b/i.test(type)) {
      throw new AppError('unsupported_media_type', 'Unsupported Content-Type: send JSON with Content-Type: application/json.');
    }
  });

  // Expired sign-ins and forgotten failures are swept at most hourly, on the way through a sign-in.
  let lastSweep = 0;
  const sweep = (now: number) => {
    if (now - lastSweep < 60 * 60 * 1000) return;
    lastSweep = now;
    Promise.all([pruneBrowserSessions(store, now), pruneLoginAttempts(store, now)]).catch((error) => runtime.log.warn({ err: error }, 'could not sweep old sign-ins'));
  };

  const signIn = async (request: FastifyRequest, reply: FastifyReply, account: Pick<Account, 'id' | 'email' | 'plan' | 'isAdmin'>) => {
    sweep(runtime.clock());
    const { token, csrfToken } = await createBrowserSession(store, account.id, request.headers['user-agent'], runtime.clock());
    setSessionCookie(request, reply, token);
    return { success: true as const, csrfToken, account: accountView(account) };
  };

  app.get(
    '/auth/state',
    {
      schema: {
        tags: ['dashboard'],
        summary: 'Who is signed in (with the CSRF token for changes), and what the sign-in page should offer',
        response: {
          200: Type.Object({
            success: Type.Literal(true),
            signedIn: Type.Boolean(),
            setupRequired: Type.Boolean(),
            signupEnabled: Type.Boolean(),
            mailConfigured: Type.Boolean(),
            driver: Type.String(),
            baseUrl: Type.String(),
            csrfToken: Type.Union([Type.String(), Type.Null()]),
            account: Type.Union([AccountView, Type.Null()]),
          }),
        },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const session = await browserSessionOf(runtime, request);
      return {
        success: true as const,
        signedIn: session !== undefined,
        setupRequired: session === undefined && !(await hasAnyAccount(store)),
        signupEnabled: runtime.config.signupEnabled,
        mailConfigured: runtime.config.smtpUrl !== undefined,
        driver: runtime.config.driver,
        baseUrl: baseUrlOf(runtime, request),
        csrfToken: session?.csrfToken ?? null,
        account: session ? accountView(session.account) : null,
      };
    },
  );

  app.post('/auth/setup', { schema: schema('First run: create the first account, an admin, with the one-time link', SetupBody) }, async (request, reply) => {
    const body = request.body as Static<typeof SetupBody>;
    const hash = await hashPassword(body.password);
    const now = runtime.clock();
    // The token is used up in the same transaction that sees there is still no account, so two tabs cannot both succeed.
    const valid = await store.write(async (tx) => {
      const anyAccount = await tx.selectFrom('accounts').select('id').limit(1).executeTakeFirst();
      return anyAccount === undefined && (await consumeSetupToken(tx, body.token, now));
    });
    if (!valid) throw new AppError('forbidden', 'This setup link has been used or has expired. Restart the server to print a new one, or run messageapi accounts create --admin in a terminal.');
    const created = await createAccount(store, { email: body.email, plan: 'unlimited', expiresAt: null, isAdmin: true }, now);
    await store.write((tx) => tx.updateTable('accounts').set({ password_hash: hash }).where('id', '=', created.id).execute());
    const answer = await signIn(request, reply, { id: created.id, email: created.email, plan: 'unlimited', isAdmin: true });
    return { ...answer, apiKey: created.apiKey };
  });

  app.post('/auth/login', { schema: schema('Sign in with e-mail and password', LoginBody) }, async (request, reply) => {
    const body = request.body as Static<typeof LoginBody>;
    const keys = throttleKeys(body.email, request.ip);
    await checkLoginAllowed(store, keys, runtime.clock());
    const row = await findAccountByEmail(store, body.email);
    const matches = await verifyPassword(body.password, row?.password_hash ?? (await decoyHash()));
    if (!row || !row.password_hash || !matches) {
      await recordLoginFailure(store, keys, runtime.clock());
      throw new AppError('unauthorized', 'Wrong e-mail or password.');
    }
    if (row.active !== 1) throw new AppError('forbidden', 'This account is disabled. Ask the operator of this server.');
    await clearLoginFailures(store, keys[0]!);
    return signIn(request, reply, { id: row.id, email: row.email, plan: row.plan as Account['plan'], isAdmin: row.is_admin === 1 });
  });

  app.post('/auth/signup', { schema: schema('Create a Trial account (when the operator allows sign-up)', LoginBody) }, async (request, reply) => {
    if (!runtime.config.signupEnabled) throw new AppError('forbidden', 'Sign-up is closed on this server. Ask the operator for an account.');
    const body = request.body as Static<typeof LoginBody>;
    const hash = await hashPassword(body.password);
    const created = await createAccount(store, { email: body.email, plan: 'trial', expiresAt: null }, runtime.clock());
    await store.write((tx) => tx.updateTable('accounts').set({ password_hash: hash }).where('id', '=', created.id).execute());
    const answer = await signIn(request, reply, { id: created.id, email: created.email, plan: 'trial', isAdmin: false });
    return { ...answer, apiKey: created.apiKey };
  });

  app.post('/auth/logout', { schema: { tags: ['dashboard'], summary: 'Sign out of this browser', response: { 200: Ok, ...errorResponses } } }, async (request, reply) => {
    const session = await browserSessionOf(runtime, request);
    if (session) {
      requireCsrf(request, session);
      await endBrowserSession(store, request.cookies[SESSION_COOKIE]!);
    }
    clearSessionCookie(request, reply);
    return { success: true as const };
  });

  app.post(
    '/auth/logout-everywhere',
    { schema: { tags: ['dashboard'], summary: 'Sign out of every browser', response: { 200: Type.Object({ success: Type.Literal(true), sessionsEnded: Type.Integer() }), ...errorResponses } } },
    async (request, reply) => {
      const session = await browserSessionOf(runtime, request);
      if (!session) throw new AppError('unauthorized', 'You are not signed in.');
      requireCsrf(request, session);
      const sessionsEnded = await endAllBrowserSessions(store, session.account.id);
      clearSessionCookie(request, reply);
      return { success: true as const, sessionsEnded };
    },
  );

  app.post('/auth/password', { schema: schema('Change your own password (signs out every other browser)', PasswordBody) }, async (request, reply) => {
    const session = await browserSessionOf(runtime, request);
    if (!session) throw new AppError('unauthorized', 'You are not signed in.');
    requireCsrf(request, session);
    const body = request.body as Static<typeof PasswordBody>;
    checkPasswordPolicy(body.newPassword);
    const row = await findAccountByEmail(store, session.account.email);
    if (!row?.password_hash || !(await verifyPassword(body.currentPassword, row.password_hash))) {
      throw new AppError('unauthorized', 'The current password is wrong.');
    }
    await setPassword(store, session.account.id, body.newPassword);
    return signIn(request, reply, session.account);
  });
}
