import pino from 'pino';
import { loadConfig } from '../../src/config.js';
import { getAccount } from '../../src/core/accounts.js';
import { acceptMessage, type NewMessage } from '../../src/core/messages.js';
import { OutcomeNotifier } from '../../src/core/outcome-notifier.js';
import { parseRecipient } from '../../src/core/recipients.js';
import { MessageDispatcher, type DispatcherDeps } from '../../src/delivery/message-dispatcher.js';
import type { Store } from '../../src/store/store.js';
import type { WhatsAppDriver } from '../../src/whatsapp/driver.js';

/** Driver events that go nowhere: the dispatcher tests look at the outbox, messages and the sandbox's network record. */
export const NO_DRIVER_EVENTS = { sessionChanged: async () => undefined, incoming: async () => '', incomingChange: async () => undefined, receipt: async () => undefined };

/** A dispatcher on `store` with no events, no media and no log, polling every 20 ms; `extra` replaces any of that. */
export function testDispatcher(store: Store, driver: WhatsAppDriver, extra: Partial<DispatcherDeps> = {}): MessageDispatcher {
  return new MessageDispatcher({
    store,
    driver,
    events: { record: async () => undefined },
    notifier: new OutcomeNotifier(),
    loadMedia: async () => {
      throw new Error('no media here');
    },
    log: pino({ level: 'silent' }),
    idlePollMs: 20,
    ...extra,
  });
}

/** Accepts a text to 12125551234 as the send API does (plan checks, outbox job); answers its id. */
export async function acceptText(store: Store, dataDir: string, accountId: string, text: string, options: { queue?: NewMessage['queue']; now?: number } = {}): Promise<string> {
  const config = loadConfig({ WHATSAPP_DRIVER: 'sandbox', DATA_DIR: dataDir });
  const account = (await getAccount(store.db, accountId))!;
  const input: NewMessage = { recipient: parseRecipient('12125551234'), kind: 'text', text, mediaUrl: null, filename: null, ...(options.queue ? { queue: options.queue } : {}) };
  return (await acceptMessage(store, config, account, input, options.now ?? Date.now())).messageId;
}
