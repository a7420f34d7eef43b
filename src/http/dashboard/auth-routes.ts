import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createAccount, insertAccount, validateNewAccount, type Account } from '../../core/accounts.js';
import { findAccountByEmail, setPassword } from '../../core/admin.js';
import { createBrowserSession, endAllBrowserSessions, endBrowserSession, pruneBrowserSessions } from '../../core/browser-sessions.js';
import { AppError } from '../../core/errors.js';
import { creditLoginSuccess, pruneLoginAttempts, refuseWhileLocked, releaseLoginAttempt, reserveLoginAttempt, throttleKeys } from '../../core/login-throttle.js';
import { checkPasswordPolicy, claimHashing, decoyHash, hashPassword, verifyPassword, type HashingClaim } from '../../core/passwords.js';
import { consumeSetupToken, hasAnyAccount, setupTokenUsable } from '../../core/setup-token.js';
import type { Runtime } from '../../runtime.js';
import { answer, BODY, errors, NO_SECURITY } from '../schemas.js';
import type { ErrorCode } from '../../core/errors.js';
import { RefusalDelay } from './refusal-delay.js';
import { browserSessionOf, clearSessionCookie, requireCsrf, requireSignedIn, SESSION_COOKIE, setSessionCookie } from './cookie-auth.js';

const Email = Type.String({ maxLength: 254, minLength: 3 });
const Password = Type.String({ maxLength: 256, minLength: 1 });
const LoginBody = Type.Object({ email: Email, password: Password });
const SetupBody = Type.Object({ token: Type.String({ maxLength: 200, minLength: 1 }), email: Email, password: Password });
const PasswordBody = Type.Object({ currentPassword: Password, newPassword: Password });

const AccountView = Type.Object({ id: Type.String(), email: Type.String(), plan: Type.String(), isAdmin: Type.Boolean() });
const ACCOUNT_VIEW_EXAMPLE = { id: 'acc_01JDQ6', email: 'owner@example.com', plan: 'unlimited', isAdmin: true };
const SignedIn = answer(
  { csrfToken: Type.String({ description: 'Send it as X-CSRF-Token with every change' }), account: AccountView, apiKey: Type.Optional(Type.String({ description: 'The new account’s first key (setup and sign-up only)' })) },
  { csrfToken: 'c2lnbmVkLWluLWNzcmY', account: ACCOUNT_VIEW_EXAMPLE },
);
/** Every POST under /auth takes a JSON body only. */
const AUTH_BODY: ErrorCode[] = [...BODY, 'missing_parameter'];

const accountView = (a: Pick<Account, 'id' | 'email' | 'plan' | 'isAdmin'>) => ({ id: a.id, email: a.email, plan: a.plan, isAdmin: a.isAdmin });

/** The base URL people should paste into their code: PUBLIC_URL, or what this request came in on. */
export function baseUrlOf(runtime: Runtime, request: FastifyRequest): string {
  return runtime.config.publicUrl ?? `${request.protocol}://${request.host}`;
}

/** Sign-in, first-run setup, sign-up and sign-out for the dashboard. JSON only, so a plain HTML form elsewhere cannot post here. */
export function registerAuthRoutes(app: FastifyInstance, runtime: Runtime): void {
  const store = runtime.store;
  const schema = (operationId: string, summary: string, body: unknown, codes: ErrorCode[]) => ({
    tags: ['dashboard'],
    operationId,
    summary,
    body,
    security: NO_SECURITY,
    response: { 200: SignedIn, ...errors(AUTH_BODY, codes) },
  });

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

  /** Refusals before any hashing are answered late (see RefusalDelay): a flood then costs little. */
  const refusalDelay = new RefusalDelay(runtime.config.signinRefusal);
  app.addHook('preClose', async () => refusalDelay.releaseAll());

  /**
   * Refuses a password check that cannot be made now, cheapest first and writing nothing: 429 while
   * a key is locked (one read), 503 when the server could not hash now (room for the hash claimed
   * in memory). The refusal is answered after the delay.
   */
  const refuseEarly = async (keys: [string, string], now: number): Promise<HashingClaim> => {
    try {
      await refuseWhileLocked(store, keys, now);
      return claimHashing();
    } catch (error) {
      if (error instanceof AppError) await refusalDelay.wait();
      throw error;
    }
  };

  /**
   * One password check under the sign-in throttle: the early refusals above; then the attempt is
   * reserved (a durable write that checks the lock again, so that concurrency cannot outrun it)
   * before the hash, and given back when the check could not be made after all.
   */
  const throttledCheck = async (keys: [string, string], check: (claim: HashingClaim) => Promise<boolean>): Promise<boolean> => {
    const now = runtime.clock();
    const claim = await refuseEarly(keys, now);
    try {
      await reserveLoginAttempt(store, keys, now);
    } catch (error) {
      claim.release();
      if (error instanceof AppError) await refusalDelay.wait();
      throw error;
    }
    try {
      return await check(claim);
    } catch (error) {
      claim.release();
      await releaseLoginAttempt(store, keys);
      throw error;
    }
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
        operationId: 'authState',
        summary: 'Who is signed in (with the CSRF token for changes), and what the sign-in page should offer',
        security: NO_SECURITY,
        response: {
          200: answer({
            signedIn: Type.Boolean(),
            setupRequired: Type.Boolean(),
            signupEnabled: Type.Boolean(),
            mailConfigured: Type.Boolean(),
            driver: Type.String(),
            baseUrl: Type.String(),
            csrfToken: Type.Union([Type.String(), Type.Null()]),
            account: Type.Union([AccountView, Type.Null()]),
          }, {
            signedIn: true,
            setupRequired: false,
            signupEnabled: false,
            mailConfigured: false,
            driver: 'baileys',
            baseUrl: 'https://wa.example.com',
            csrfToken: 'c2lnbmVkLWluLWNzcmY',
            account: ACCOUNT_VIEW_EXAMPLE,
          }),
          ...errors('invalid_parameter'),
        },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      // A disabled account's browser is shown the sign-in page (which then says why), not a dashboard that answers 403 everywhere.
      const cookieSession = await browserSessionOf(runtime, request);
      const session = cookieSession?.account.active ? cookieSession : undefined;
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

  const setupRefused = () =>
    new AppError('forbidden', 'This setup link has been used or has expired. Restart the server to print a new one, or run messageapi accounts create --admin in a terminal.');

  app.post('/auth/setup', { schema: schema('authSetup', 'First run: create the first account, an admin, with the one-time link', SetupBody, ['forbidden', 'conflict', 'service_unavailable']) }, async (request, reply) => {
    const body = request.body as Static<typeof SetupBody>;
    const now = runtime.clock();
    // The token first, and no hashing before it: a bogus token, or a server that has accounts, is answered at once.
    if (!(await setupTokenUsable(store, body.token, now))) throw setupRefused();
    // Then the form: a typo in the e-mail or a short password leaves the link usable.
    validateNewAccount({ email: body.email, plan: 'unlimited' });
    const hash = await hashPassword(body.password);
    // The token is used up in the same transaction that sees there is still no account and creates it, so two tabs cannot both succeed.
    const created = await store.write(async (tx) => {
      const anyAccount = await tx.selectFrom('accounts').select('id').limit(1).executeTakeFirst();
      if (anyAccount !== undefined || !(await consumeSetupToken(tx, body.token, now))) return undefined;
      return insertAccount(tx, { email: body.email, plan: 'unlimited', expiresAt: null, isAdmin: true, passwordHash: hash }, now);
    });
    if (!created) throw setupRefused();
    const answer = await signIn(request, reply, { id: created.id, email: created.email, plan: 'unlimited', isAdmin: true });
    return { ...answer, apiKey: created.apiKey };
  });

  app.post('/auth/login', { schema: schema('authLogin', 'Sign in with e-mail and password', LoginBody, ['unauthorized', 'account_disabled', 'too_many_requests', 'service_unavailable']) }, async (request, reply) => {
    const body = request.body as Static<typeof LoginBody>;
    const keys = throttleKeys(body.email, request.ip);
    let row: Awaited<ReturnType<typeof findAccountByEmail>>;
    const matches = await throttledCheck(keys, async (claim) => {
      row = await findAccountByEmail(store, body.email);
      return verifyPassword(body.password, row?.password_hash ?? decoyHash(), claim);
    });
    if (!row || !row.password_hash || !matches) throw new AppError('unauthorized', 'Wrong e-mail or password.');
    await creditLoginSuccess(store, keys);
    if (row.active !== 1) throw new AppError('account_disabled', 'This account is disabled. Ask the operator of this server.');
    return signIn(request, reply, { id: row.id, email: row.email, plan: row.plan as Account['plan'], isAdmin: row.is_admin === 1 });
  });

  app.post('/auth/signup', { schema: schema('authSignup', 'Create a Trial account (when the operator allows sign-up)', LoginBody, ['forbidden', 'conflict', 'service_unavailable']) }, async (request, reply) => {
    if (!runtime.config.signupEnabled) throw new AppError('forbidden', 'Sign-up is closed on this server. Ask the operator for an account.');
    const body = request.body as Static<typeof LoginBody>;
    validateNewAccount({ email: body.email, plan: 'trial' });
    const hash = await hashPassword(body.password);
    const created = await createAccount(store, { email: body.email, plan: 'trial', expiresAt: null, passwordHash: hash }, runtime.clock());
    const answer = await signIn(request, reply, { id: created.id, email: created.email, plan: 'trial', isAdmin: false });
    return { ...answer, apiKey: created.apiKey };
  });

  app.post('/auth/logout', { schema: { tags: ['dashboard'], operationId: 'authLogout', summary: 'Sign out of this browser', security: NO_SECURITY, response: { 200: answer({}, {}), ...errors(BODY, 'csrf_failed') } } }, async (request, reply) => {
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
    {
      schema: {
        tags: ['dashboard'],
        operationId: 'authLogoutEverywhere',
        summary: 'Sign out of every browser',
        security: [{ dashboardSession: [] }],
        response: { 200: answer({ sessionsEnded: Type.Integer() }, { sessionsEnded: 2 }), ...errors(BODY, 'unauthorized', 'account_disabled', 'csrf_failed') },
      },
    },
    async (request, reply) => {
      const session = await requireSignedIn(runtime, request);
      const sessionsEnded = await endAllBrowserSessions(store, session.account.id);
      clearSessionCookie(request, reply);
      return { success: true as const, sessionsEnded };
    },
  );

  app.post('/auth/password', { schema: { ...schema('authChangePassword', 'Change your own password (signs out every other browser)', PasswordBody, ['unauthorized', 'csrf_failed', 'account_disabled', 'too_many_requests', 'service_unavailable']), security: [{ dashboardSession: [] }] } }, async (request, reply) => {
    const session = await requireSignedIn(runtime, request);
    const body = request.body as Static<typeof PasswordBody>;
    checkPasswordPolicy(body.newPassword);
    // Throttled as sign-in is (same keys): a stolen cookie must not become a password guesser.
    const keys = throttleKeys(session.account.email, request.ip);
    const row = await findAccountByEmail(store, session.account.email);
    const stored = row?.password_hash;
    if (!stored || !(await throttledCheck(keys, (claim) => verifyPassword(body.currentPassword, stored, claim)))) {
      throw new AppError('unauthorized', 'The current password is wrong.');
    }
    await creditLoginSuccess(store, keys);
    await setPassword(store, session.account.id, body.newPassword);
    return signIn(request, reply, session.account);
  });
}
