import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Store } from '../store/store.js';
import type { SessionOwnership } from '../core/scale-out/session-ownership.js';
import type { DriverEvents, WhatsAppDriver } from './driver.js';
import { SandboxDriver } from './sandbox/sandbox-driver.js';
import { BaileysDriver, DEFAULT_BAILEYS_SETTINGS } from './baileys/baileys-driver.js';

export interface DriverContext {
  store: Store;
  events: DriverEvents;
  log: Logger;
  clock: () => number;
  secret: string;
  /** This process's share of the sessions (leases, heartbeat, the send fence). */
  ownership: SessionOwnership;
}

export async function createDriver(config: Config, context: DriverContext): Promise<WhatsAppDriver> {
  switch (config.driver) {
    case 'sandbox':
      return new SandboxDriver(
        context.store,
        context.events,
        context.clock,
        { hangAfterSends: config.sandbox.hangAfterSends, pacing: { minMs: config.sandbox.pacingMinMs, maxMs: config.sandbox.pacingMaxMs } },
        context.ownership,
        context.log,
      );
    case 'baileys': {
      const w = config.whatsapp;
      return new BaileysDriver({
        store: context.store,
        events: context.events,
        log: context.log,
        clock: context.clock,
        secret: context.secret,
        ownership: context.ownership,
        settings: {
          version: [...w.version],
          pacing: { minMs: w.pacingMinMs, maxMs: w.pacingMaxMs },
          reconnect: { ...DEFAULT_BAILEYS_SETTINGS.reconnect, giveUpAfterMs: w.reconnectGiveUpMs },
          linkTimeoutMs: w.linkTimeoutMs,
          qrTimeoutMs: w.qrTimeoutMs,
          markOnlineOnConnect: w.markOnlineOnConnect,
          syncFullHistory: w.syncFullHistory,
          libraryLogLevel: w.libraryLogLevel,
          webSocketUrl: w.webSocketUrl,
          inboundMediaMaxBytes: config.inboundMedia.maxBytes,
        },
      });
    }
  }
}
