import 'dotenv/config';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { loadConfig, ConfigError, PLAN_NAMES, type Config } from '../config.js';
import { createAccount, listAccounts, setPlan } from '../core/accounts.js';
import { findAccountByEmail, setPassword } from '../core/admin.js';
import { createApiKey, listApiKeys, revokeApiKey } from '../core/api-keys.js';
import { AppError } from '../core/errors.js';
import { passwordHashingPool } from '../core/password-hashing-pool.js';
import { hashPassword } from '../core/passwords.js';
import { sessionHolders } from '../core/scale-out/session-report.js';
import { databaseLabel } from '../store/database-label.js';
import { dialectOf } from '../store/dialect.js';
import { ServerAlreadyRunningError } from '../store/server-lock.js';
import { Store } from '../store/store.js';
import { readPassword } from './read-password.js';

/** Wrapped, because commander turns an option parser's `null` into an empty string. */
interface Expiry {
  at: number | null;
}

function parseExpiry(value: string): Expiry {
  if (value === 'never') return { at: null };
  const time = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T23:59:59.999Z` : value);
  if (Number.isNaN(time)) throw new InvalidArgumentError('use a date like 2027-01-31, an ISO time, or "never".');
  return { at: time };
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError('use a port number from 0 to 65535.');
  return port;
}

const planOption = () => new Option('--plan <plan>', 'trial, personal or unlimited').choices(PLAN_NAMES).makeOptionMandatory();

async function withStore<T>(config: Config, fn: (store: Store) => Promise<T>): Promise<T> {
  // On stderr, so --json output stays one clean object on stdout.
  console.error(`Database: ${databaseLabel(config.databaseUrl)}`);
  passwordHashingPool.setLimits(config.passwordHashing);
  const store = Store.open(config.databaseUrl, { sqliteSynchronous: config.sqliteSynchronous, backgroundCheckpoints: false });
  try {
    await store.migrate();
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** An account by id or, when the argument holds an `@`, by e-mail. */
async function findAccount(store: Store, idOrEmail: string): Promise<{ id: string; email: string }> {
  const row = idOrEmail.includes('@')
    ? await findAccountByEmail(store, idOrEmail)
    : await store.db.selectFrom('accounts').select(['id', 'email']).where('id', '=', idOrEmail).executeTakeFirst();
  if (!row) throw new AppError('not_found', `No account ${idOrEmail}. See them with: messageapi accounts list`);
  return row;
}

const isExpired = (a: { subscriptionExpiresAt: number | null }, now: number) => a.subscriptionExpiresAt !== null && a.subscriptionExpiresAt <= now;

const iso = (ms: number | null) => (ms === null ? 'never' : new Date(ms).toISOString());

export function buildCli(): Command {
  const program = new Command('messageapi')
    .description('MessageAPI: a self-hosted WhatsApp HTTP gateway. Configuration comes from the environment (and a .env file).')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  program
    .command('serve')
    .description('start the HTTP server (runs migrations first)')
    .option('--sandbox', 'use the sandbox WhatsApp driver (same as WHATSAPP_DRIVER=sandbox)')
    .option('--port <port>', 'port to listen on (PORT)', parsePort)
    .option('--host <host>', 'address to listen on (HOST)')
    .action(async (opts: { sandbox?: boolean; port?: number; host?: string }) => {
      const overrides: Partial<Config> = {};
      if (opts.sandbox) Object.assign(overrides, { driver: 'sandbox' });
      if (opts.port !== undefined) Object.assign(overrides, { port: opts.port });
      if (opts.host !== undefined) Object.assign(overrides, { host: opts.host });
      // Loaded only here: the server pulls in the whole app, which the other commands do not need.
      const { startServer } = await import('../server.js');
      await startServer(loadConfig(process.env, overrides));
    });

  program
    .command('link')
    .description('link a WhatsApp number to an account: shows the QR code here (or a pairing code with --pair)')
    .requiredOption('--account <id>', 'account id')
    .option('--pair <phone>', 'get an 8-character pairing code for this phone number instead of a QR')
    .action(async (opts: { account: string; pair?: string }) => {
      const { linkInTerminal } = await import('./link-in-terminal.js');
      await linkInTerminal(loadConfig(), { accountId: opts.account, pairPhone: opts.pair });
      process.exit(0);
    });

  program
    .command('migrate')
    .description('create or update the database tables')
    .action(async () => {
      const config = loadConfig();
      await withStore(config, async () => console.log(`Database is up to date (${dialectOf(config.databaseUrl) === 'sqlite' ? 'SQLite' : 'PostgreSQL'}).`));
    });

  const accounts = program.command('accounts').description('manage accounts');
  accounts
    .command('create')
    .description('create an account and print its first API key (shown only once)')
    .requiredOption('--email <email>', "the account holder's e-mail address")
    .addOption(planOption())
    .option('--expires <date>', 'subscription end (YYYY-MM-DD, ISO time, or "never")', parseExpiry)
    .option('--admin', 'make it an admin of the dashboard (manages every account)')
    .option('--password', 'also set its dashboard password (read from stdin, or asked for)')
    .option('--json', 'print one JSON object')
    .action(async (opts: { email: string; plan: string; expires?: Expiry; admin?: boolean; password?: boolean; json?: boolean }) => {
      const password = opts.password ? await readPassword('Dashboard password: ') : undefined;
      const created = await withStore(loadConfig(), async (store) => {
        const passwordHash = password === undefined ? null : await hashPassword(password);
        return createAccount(store, { email: opts.email, plan: opts.plan, expiresAt: opts.expires?.at ?? null, isAdmin: opts.admin ?? false, passwordHash }, Date.now());
      });
      if (opts.json) {
        console.log(JSON.stringify({ id: created.id, email: created.email, plan: created.plan, apiKey: created.apiKey }));
      } else {
        console.log(`Account created: ${created.id} (${created.email}, ${created.plan})`);
        console.log(`API key (shown only once, keep it safe): ${created.apiKey}`);
      }
      if (password === undefined) {
        console.error(`No dashboard password yet: set one with  messageapi accounts set-password ${created.email}  (or pass --password when creating).`);
      }
    });
  accounts
    .command('set-password')
    .description('set or reset the dashboard password of an account (signs it out of every browser); reads it from stdin, or asks')
    .argument('<account>', 'account id or e-mail')
    .action(async (idOrEmail: string) => {
      const password = await readPassword('New dashboard password: ');
      const email = await withStore(loadConfig(), async (store) => {
        const row = await findAccount(store, idOrEmail);
        await setPassword(store, row.id, password);
        return row.email;
      });
      console.log(`Password set for ${email}. Sign in at the dashboard with this e-mail.`);
    });
  accounts
    .command('list')
    .description('list accounts')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const list = await withStore(loadConfig(), (store) => listAccounts(store));
      const now = Date.now();
      if (opts.json) {
        console.log(
          JSON.stringify(
            list.map((a) => ({
              id: a.id,
              email: a.email,
              plan: a.plan,
              subscriptionExpiresAt: a.subscriptionExpiresAt === null ? null : iso(a.subscriptionExpiresAt),
              active: a.active,
              admin: a.isAdmin,
              expired: isExpired(a, now),
            })),
          ),
        );
        return;
      }
      if (list.length === 0) console.log('No accounts yet. Create one with: messageapi accounts create --email you@example.com --plan trial --password');
      for (const a of list) {
        const marks = [a.isAdmin ? 'admin' : '', a.active ? '' : 'disabled', isExpired(a, now) ? 'expired' : ''].filter(Boolean);
        console.log(`${a.id}  ${a.email}  ${a.plan}  expires: ${iso(a.subscriptionExpiresAt)}${marks.length ? `  (${marks.join(', ')})` : ''}`);
      }
    });
  accounts
    .command('set-plan')
    .description("change an account's plan (and optionally its subscription end)")
    .argument('<account>', 'account id or e-mail')
    .argument('<plan>', 'trial, personal or unlimited')
    .option('--expires <date>', 'subscription end (YYYY-MM-DD, ISO time, or "never")', parseExpiry)
    .action(async (idOrEmail: string, plan: string, opts: { expires?: Expiry }) => {
      const account = await withStore(loadConfig(), async (store) => setPlan(store, (await findAccount(store, idOrEmail)).id, plan, opts.expires?.at));
      console.log(`${account.id} (${account.email}) is now on ${account.plan}, expires: ${iso(account.subscriptionExpiresAt)}`);
    });

  program
    .command('sessions')
    .description('list the server processes sharing the database and which WhatsApp sessions each holds')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const config = loadConfig();
      const now = Date.now();
      const report = await withStore(config, (store) => sessionHolders(store, now, config.sessionLeases.leaseMs));
      if (opts.json) {
        const at = (ms: number) => new Date(ms).toISOString();
        console.log(
          JSON.stringify({
            processes: report.processes.map((p) => ({ ...p, startedAt: at(p.startedAt), heartbeatAt: at(p.heartbeatAt) })),
            sessions: report.sessions.map((s) => ({ ...s, expiresAt: s.held ? at(s.expiresAt) : null })),
          }),
        );
        return;
      }
      if (report.processes.length === 0) console.log('No server process has registered with this database.');
      for (const p of report.processes) {
        const seen = Math.round((now - p.heartbeatAt) / 1000);
        console.log(`process ${p.id}  host ${p.host}  pid ${p.pid}  ${p.live ? 'live' : 'not live'} (heartbeat ${seen} s ago)  holds ${p.sessions} session${p.sessions === 1 ? '' : 's'}`);
      }
      for (const s of report.sessions) {
        console.log(`${s.accountId}  ${s.email}  ${s.holder ? `held by ${s.holder} for ${Math.max(0, Math.round((s.expiresAt - now) / 1000))} s more` : 'not held'}  (token ${s.token})`);
      }
    });

  const keys = program.command('keys').description('manage API keys');
  keys
    .command('create')
    .description('create another API key for an account (shown only once)')
    .argument('<account>', 'account id or e-mail')
    .option('--json', 'print one JSON object')
    .action(async (idOrEmail: string, opts: { json?: boolean }) => {
      let accountId = '';
      const key = await withStore(loadConfig(), async (store) => {
        accountId = (await findAccount(store, idOrEmail)).id;
        return store.write((tx) => createApiKey(tx, accountId, Date.now()));
      });
      if (opts.json) console.log(JSON.stringify({ id: key.id, accountId, apiKey: key.apiKey }));
      else console.log(`Key ${key.id} created. API key (shown only once): ${key.apiKey}`);
    });
  keys
    .command('revoke')
    .description('revoke an API key; requests with it get 401 from then on')
    .argument('<key-id>', 'key id (from `keys list`)')
    .action(async (keyId: string) => {
      await withStore(loadConfig(), (store) => revokeApiKey(store, keyId, Date.now()));
      console.log(`Key ${keyId} revoked.`);
    });
  keys
    .command('list')
    .description("list an account's keys by prefix")
    .argument('<account-id>', 'account id')
    .action(async (accountId: string) => {
      const list = await withStore(loadConfig(), (store) => listApiKeys(store, accountId));
      for (const k of list) console.log(`${k.id}  ${k.prefix}…  created ${k.createdAt}  last used ${k.lastUsedAt ?? 'never'}${k.revokedAt ? `  REVOKED ${k.revokedAt}` : ''}`);
    });

  for (const command of [program, ...program.commands, ...program.commands.flatMap((c) => c.commands)]) command.exitOverride();
  return program;
}

async function main(): Promise<void> {
  try {
    await buildCli().parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) process.exit(error.exitCode);
    if (error instanceof AppError || error instanceof ConfigError || error instanceof ServerAlreadyRunningError) {
      console.error(`error: ${error.message}`);
      process.exit(1);
    }
    const listen = error as NodeJS.ErrnoException & { address?: string; port?: number };
    if (listen.syscall === 'listen' && (listen.code === 'EADDRINUSE' || listen.code === 'EACCES')) {
      const why = listen.code === 'EADDRINUSE' ? 'is already in use (by another server, perhaps another MessageAPI)' : 'needs privileges this process does not have';
      console.error(`error: port ${listen.port} on ${listen.address} ${why}. Stop the other server, or choose another port with --port or PORT.`);
      process.exit(1);
    }
    console.error(error);
    process.exit(1);
  }
}

await main();
