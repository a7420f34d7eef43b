import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import pino, { type Logger } from 'pino';
import { buildApp, type AppOptions } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createAccount } from '../../src/core/accounts.js';
import type { EventRecorder } from '../../src/core/events.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import type { Dialect } from '../../src/store/dialect.js';
import { createTestDatabase, type TestDatabase } from './databases.js';

export interface TestApp {
  app: FastifyInstance;
  runtime: Runtime;
  database: TestDatabase;
  createAccount(plan?: string, extra?: { expiresAt?: number | null; email?: string }): Promise<{ id: string; apiKey: string }>;
  inject(options: InjectOptions): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string>;
  clock?: () => number;
  /** The retry schedules' jitter source (default Math.random). */
  random?: () => number;
  events?: EventRecorder;
  appOptions?: AppOptions;
  /** The logger (default: pino at TEST_LOG_LEVEL, silent). */
  log?: Logger;
  /** Start the dispatcher and driver (default true). */
  start?: boolean;
}

let emailCounter = 0;

/** The real app on a database of its own, in sandbox mode unless the env says otherwise. */
export async function startTestApp(dialect: Dialect, options: TestAppOptions = {}): Promise<TestApp> {
  const database = await createTestDatabase(dialect);
  const config: Config = loadConfig({
    WHATSAPP_DRIVER: 'sandbox',
    DATA_DIR: database.dataDir,
    DATABASE_URL: database.url,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    MESSAGEAPI_SECRET: 'test-secret-test-secret-test-secret',
    ...options.env,
  });
  const runtime = await createRuntime(config, { log: options.log ?? pino({ level: config.logLevel }), clock: options.clock, random: options.random, events: options.events });
  const app = await buildApp(runtime, options.appOptions);
  if (options.start !== false) await runtime.start();
  return {
    app,
    runtime,
    database,
    async createAccount(plan = 'trial', extra = {}) {
      const email = extra.email ?? `user${++emailCounter}-${Math.random().toString(36).slice(2, 8)}@example.com`;
      const created = await createAccount(runtime.store, { email, plan, expiresAt: extra.expiresAt ?? null }, runtime.clock());
      return { id: created.id, apiKey: created.apiKey };
    },
    inject: (opts) => app.inject(opts),
    async close() {
      await app.close();
      await runtime.close();
      await database.drop();
    },
  };
}
