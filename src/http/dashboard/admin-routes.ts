import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PLAN_NAMES } from '../../config.js';
import { createAccount, getAccount, setPlan, validateNewAccount, type Account } from '../../core/accounts.js';
import { dailyCounts, searchAccounts, setPassword, updateAccountFlags } from '../../core/admin.js';
import { AppError } from '../../core/errors.js';
import { hashPassword } from '../../core/passwords.js';
import { readUsage } from '../../core/quota.js';
import type { Runtime } from '../../runtime.js';
import { requireAccount } from '../auth.js';
import { ACCOUNT_EXAMPLE, AccountSchema, answer, BODY, CHANGE_AUTH, DAY_EXAMPLE, DayCountSchema, errors, KEY_AUTH, ref } from '../schemas.js';
import type { Authenticate } from '../routes/types.js';

const Plan = Type.Union(PLAN_NAMES.map((p) => Type.Literal(p)));
const Expiry = Type.Union([Type.String({ maxLength: 40 }), Type.Null()], { description: 'YYYY-MM-DD (end of that day, UTC), an ISO time, or null for never' });

const AdminAccount = ref(AccountSchema);
/** Every admin route: a key or session of an admin account. */
const ADMIN = [...KEY_AUTH, 'forbidden'] as const;
const ADMIN_CHANGE = [...CHANGE_AUTH, 'forbidden'] as const;

const ListQuery = Type.Object({
  q: Type.Optional(Type.String({ maxLength: 254 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 400 })),
});
const CreateBody = Type.Object({
  email: Type.String({ maxLength: 254 }),
  plan: Plan,
  expiresAt: Type.Optional(Expiry),
  password: Type.Optional(Type.String({ maxLength: 256 })),
  isAdmin: Type.Optional(Type.Boolean()),
});
const PatchBody = Type.Object(
  { plan: Type.Optional(Plan), expiresAt: Type.Optional(Expiry), active: Type.Optional(Type.Boolean()), isAdmin: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
const PasswordBody = Type.Object({ password: Type.String({ maxLength: 256 }) });
const IdParams = Type.Object({ id: Type.String({ maxLength: 100 }) });

export function parseExpiry(value: string | null): number | null {
  if (value === null || value === '') return null;
  const time = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T23:59:59.999Z` : value);
  if (Number.isNaN(time)) throw new AppError('invalid_parameter', 'Invalid parameter: expiresAt must be a date like 2027-01-31, an ISO time, or null.');
  return time;
}

/** The operator's pages: accounts (search, create, plan and expiry, disable, reset password), each with its connection and usage. */
export function registerAdminRoutes(app: FastifyInstance, runtime: Runtime, authenticate: Authenticate): void {
  const signedIn = authenticate({ allowQueryKey: false });
  const preHandler = async (request: FastifyRequest) => {
    await signedIn(request);
    if (!requireAccount(request).isAdmin) throw new AppError('forbidden', 'This needs an admin account.');
  };
  const tags = ['admin'];

  const view = async (account: Account, hasPassword: boolean) => {
    const now = runtime.clock();
    const [session, usage] = await Promise.all([runtime.sessionCalls.session(account.id), readUsage(runtime.store.db, account.id, now, { withReset: false })]);
    return {
      id: account.id,
      email: account.email,
      plan: account.plan,
      subscriptionExpiresAt: account.subscriptionExpiresAt === null ? null : new Date(account.subscriptionExpiresAt).toISOString(),
      subscriptionActive: account.active && (account.subscriptionExpiresAt === null || account.subscriptionExpiresAt > now),
      active: account.active,
      isAdmin: account.isAdmin,
      hasPassword,
      createdAt: new Date(account.createdAt).toISOString(),
      state: session.state,
      phone: session.phone,
      messagesToday: usage.count,
      dailyLimit: runtime.config.plans[account.plan].dailyLimit,
    };
  };
  const hasPassword = async (id: string) =>
    (await runtime.store.db.selectFrom('accounts').select('password_hash').where('id', '=', id).executeTakeFirst())?.password_hash != null;
  const load = async (id: string) => {
    const account = await getAccount(runtime.store.db, id);
    if (!account) throw new AppError('not_found', `No account with id ${id}.`);
    return account;
  };

  app.get(
    '/api/v1/admin/accounts',
    {
      schema: {
        tags,
        operationId: 'adminListAccounts',
        summary: 'Accounts by e-mail, with connection and usage; q searches e-mail or id',
        querystring: ListQuery,
        response: {
          200: answer({ accounts: Type.Array(AdminAccount), nextCursor: Type.Union([Type.String(), Type.Null()]) }, { accounts: [ACCOUNT_EXAMPLE], nextCursor: null }),
          ...errors('invalid_parameter', ADMIN),
        },
      },
      preHandler,
    },
    async (request) => {
      const query = request.query as Static<typeof ListQuery>;
      const after = query.cursor ? Buffer.from(query.cursor, 'base64url').toString('utf8') : undefined;
      // PostgreSQL refuses NUL in text: a forged cursor is a bad parameter, not a server error.
      if (after?.includes('\u0000')) throw new AppError('invalid_parameter', 'Invalid parameter: cursor is not one this server gave out.');
      const { page, more } = await searchAccounts(runtime.store, { query: query.q, limit: query.limit ?? 50, after });
      const accounts = await Promise.all(page.map((p) => view(p.account, p.hasPassword)));
      const last = page[page.length - 1];
      return { success: true as const, accounts, nextCursor: more && last ? Buffer.from(last.account.email).toString('base64url') : null };
    },
  );

  app.post(
    '/api/v1/admin/accounts',
    {
      schema: {
        tags,
        operationId: 'adminCreateAccount',
        summary: 'Create an account (its first API key is shown once)',
        body: CreateBody,
        response: {
          200: answer({ account: AdminAccount, apiKey: Type.String() }, { account: ACCOUNT_EXAMPLE, apiKey: 'msg_ab12cd34ef56gh78ij90kl12mn34op56qr78' }),
          ...errors(ADMIN_CHANGE, BODY, 'missing_parameter', 'conflict'),
        },
      },
      preHandler,
    },
    async (request) => {
      const body = request.body as Static<typeof CreateBody>;
      const expiresAt = parseExpiry(body.expiresAt ?? null);
      validateNewAccount({ email: body.email, plan: body.plan });
      // Hashed before the account exists, so that a busy server (503) leaves nothing half made.
      const passwordHash = body.password ? await hashPassword(body.password) : null;
      const created = await createAccount(runtime.store, { email: body.email, plan: body.plan, expiresAt, isAdmin: body.isAdmin ?? false, passwordHash }, runtime.clock());
      return { success: true as const, account: await view(await load(created.id), Boolean(body.password)), apiKey: created.apiKey };
    },
  );

  app.get(
    '/api/v1/admin/accounts/:id',
    {
      schema: {
        tags,
        operationId: 'adminGetAccount',
        summary: 'One account with its connection, usage and the last 7 days',
        params: IdParams,
        response: {
          200: answer({ account: AdminAccount, days: Type.Array(ref(DayCountSchema)) }, { account: ACCOUNT_EXAMPLE, days: [DAY_EXAMPLE] }),
          ...errors('invalid_parameter', ADMIN, 'not_found'),
        },
      },
      preHandler,
    },
    async (request) => {
      const { id } = request.params as Static<typeof IdParams>;
      const account = await load(id);
      return { success: true as const, account: await view(account, await hasPassword(id)), days: await dailyCounts(runtime.store, id, 7, runtime.clock()) };
    },
  );

  app.patch(
    '/api/v1/admin/accounts/:id',
    {
      schema: {
        tags,
        operationId: 'adminUpdateAccount',
        summary: 'Change plan, expiry, disable or enable, make admin',
        params: IdParams,
        body: PatchBody,
        response: { 200: answer({ account: AdminAccount }, { account: ACCOUNT_EXAMPLE }), ...errors(ADMIN_CHANGE, BODY, 'not_found', 'conflict') },
      },
      preHandler,
    },
    async (request) => {
      const { id } = request.params as Static<typeof IdParams>;
      const body = request.body as Static<typeof PatchBody>;
      const me = requireAccount(request);
      if (id === me.id && (body.active === false || body.isAdmin === false)) {
        throw new AppError('conflict', 'You cannot disable your own account or remove your own admin rights; ask another admin.');
      }
      let account = await load(id);
      if (body.plan !== undefined || body.expiresAt !== undefined) {
        account = await setPlan(runtime.store, id, body.plan ?? account.plan, body.expiresAt === undefined ? undefined : parseExpiry(body.expiresAt));
      }
      if (body.active !== undefined || body.isAdmin !== undefined) account = await updateAccountFlags(runtime.store, id, { active: body.active, isAdmin: body.isAdmin }, me.id);
      return { success: true as const, account: await view(account, await hasPassword(id)) };
    },
  );

  app.post(
    '/api/v1/admin/accounts/:id/password',
    {
      schema: {
        tags,
        operationId: 'adminSetPassword',
        summary: "Set or reset an account's password (signs it out everywhere)",
        params: IdParams,
        body: PasswordBody,
        response: { 200: answer({}, {}), ...errors(ADMIN_CHANGE, BODY, 'missing_parameter', 'not_found') },
      },
      preHandler,
    },
    async (request) => {
      const { id } = request.params as Static<typeof IdParams>;
      await setPassword(runtime.store, id, (request.body as Static<typeof PasswordBody>).password);
      return { success: true as const };
    },
  );
}
