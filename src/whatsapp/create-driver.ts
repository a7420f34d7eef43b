import type { Logger } from 'pino';
import { ConfigError, type Config } from '../config.js';
import type { Store } from '../store/store.js';
import type { DriverEvents, WhatsAppDriver } from './driver.js';
import { SandboxDriver } from './sandbox/sandbox-driver.js';

export interface DriverContext {
  store: Store;
  events: DriverEvents;
  log: Logger;
  clock: () => number;
  secret: string;
}

export async function createDriver(config: Config, context: DriverContext): Promise<WhatsAppDriver> {
  switch (config.driver) {
    case 'sandbox':
      return new SandboxDriver(context.store, context.events, context.clock);
    case 'baileys':
      throw new ConfigError('The baileys driver is not part of this build yet: start with WHATSAPP_DRIVER=sandbox (or `messageapi serve --sandbox`).');
  }
}
