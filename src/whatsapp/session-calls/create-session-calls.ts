import type { Logger } from 'pino';
import { LocalSessionCalls, type SessionCallName, type SessionCalls } from '../../core/session-calls.js';
import type { WhatsAppDriver } from '../../core/driver-port.js';
import type { Store } from '../../store/store.js';
import { ForwardedSessionCalls, type ForwardOutcome } from './forwarded-session-calls.js';
import { SessionCallServer } from './session-call-server.js';

export interface SessionCallsRuntime {
  calls: SessionCalls;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface SessionCallsOptions {
  store: Store;
  driver: WhatsAppDriver;
  processId: string;
  log: Logger;
  linkTimeoutMs: number;
  timeoutMs?: number;
  recheckMs?: number;
  forwarded?: (call: SessionCallName, outcome: ForwardOutcome) => void;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Where session calls run. SQLite is one process, and a driver with no leases (the sandbox keeps
 * everything in the database) has no holder: the local driver. PostgreSQL with a driver that
 * holds sessions: forwarded to the holder, and this process answers the calls forwarded to it.
 */
export function createSessionCalls(options: SessionCallsOptions): SessionCallsRuntime {
  const { store, driver } = options;
  if (store.dialect !== 'postgres' || !driver.sessionHolder) {
    return { calls: new LocalSessionCalls(driver), start: async () => undefined, stop: async () => undefined };
  }
  const calls = new ForwardedSessionCalls({ ...options, timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS });
  const server = new SessionCallServer(store, driver, options.processId, options.log);
  return {
    calls,
    async start() {
      await calls.start();
      await server.start();
    },
    async stop() {
      calls.stop();
      await server.stop();
    },
  };
}
