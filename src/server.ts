import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import type { Config } from './config.js';
import { firstRunSetupLink, setupLinkBanner } from './http/dashboard/setup-link.js';
import { createLogger } from './logger.js';
import { prettyLogStream } from './log-pretty.js';
import { databaseLabel } from './store/database-label.js';
import { holdServerLock } from './store/server-lock.js';
import { createRuntime, type Runtime } from './runtime.js';

export interface RunningServer {
  app: FastifyInstance;
  runtime: Runtime;
  url: string;
  close(): Promise<void>;
}

/** Starts the gateway and listens; SIGTERM/SIGINT stop accepting, finish in-flight requests, then exit. */
export async function startServer(config: Config, options: { handleSignals?: boolean } = {}): Promise<RunningServer> {
  const pretty = config.logFormat === 'pretty' || (config.logFormat === 'auto' && process.stdout.isTTY === true);
  const log = createLogger(config.logLevel, pretty ? prettyLogStream() : undefined);
  if (options.handleSignals !== false) {
    // A promise nobody awaited (a library's, say Baileys' on a closing socket) must not take every
    // account's sessions and requests down with it: the outbox is on disk either way, but an
    // exit is an outage. It is logged as the bug it is. A thrown exception still ends the process.
    process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'a promise failed and nothing handled it (kept running)'));
  }
  // Before anything that touches the data: a second server on a SQLite database must stop here.
  const lock = holdServerLock(config.databaseUrl);
  let runtime: Runtime | undefined;
  let app: FastifyInstance | undefined;
  let address: string;
  try {
    runtime = await createRuntime(config, { log });
    app = await buildApp(runtime);
    await runtime.start();
    address = await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await app?.close();
    await runtime?.close();
    lock.release();
    throw error;
  }

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await app.close();
      await runtime.close();
      lock.release();
    })());

  // Before the first await after listening: a request can be answered (readyz included) only once
  // a SIGTERM already shuts down gracefully, not by the default action that kills the process.
  if (options.handleSignals !== false) {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        log.info({ signal }, 'shutting down: pending messages stay in the outbox for the next start');
        const force = setTimeout(() => process.exit(1), 15_000);
        force.unref();
        close().then(
          () => process.exit(0),
          (error) => {
            log.error({ err: error }, 'shutdown failed');
            process.exit(1);
          },
        );
      });
    }
  }
  log.info({ driver: config.driver, database: runtime.store.dialect }, `MessageAPI listening on ${address}`);
  const base = config.publicUrl ?? address.replace('//0.0.0.0', '//localhost').replace('//[::]', '//localhost');
  // For the person at the terminal, not the log: the one-time link to create the first account.
  const setupLink = await firstRunSetupLink(runtime, address).catch((error: unknown) => {
    if (closing) return undefined; // a SIGTERM closed the database under it: the shutdown decides the exit
    throw error;
  });
  if (setupLink) console.log(setupLinkBanner(setupLink));
  // The last line of a start (after the setup link, if any).
  log.info(`Dashboard: ${base}/  API reference: ${base}/docs  Database: ${databaseLabel(config.databaseUrl)}`);

  return { app, runtime, url: address, close };
}
