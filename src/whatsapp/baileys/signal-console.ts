import type { Logger } from 'pino';

// What libsignal (under Baileys) prints with console.* — some with the whole session record,
// private keys included, as the second argument.
const SIGNAL_MESSAGES = [
  'Closing session',
  'Opening session',
  'Removing old closed session',
  'Session already closed',
  'Session already open',
  'Migrating session to',
  'Closing open session in favor of incoming prekey bundle',
  'Decrypted message with closed session',
  'Failed to decrypt message with any known session',
  'Session error:',
  'Unhandled bucket type',
  'V1 session storage migration error',
  'WARNING: Expected pubkey',
];

type ConsoleLike = Pick<Console, 'log' | 'info' | 'warn' | 'error' | 'debug'>;

const installed = new WeakSet<object>();

/**
 * Sends libsignal's console lines to our log as one sentence at debug level, without the objects
 * they carry (session records hold private keys), instead of printing them to stdout. Every other
 * console call is left as it is.
 */
export function routeSignalConsole(log: Logger, target: ConsoleLike = console): void {
  if (installed.has(target)) return;
  installed.add(target);
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    const original = target[method].bind(target);
    target[method] = (...args: unknown[]) => {
      const first = args[0];
      if (typeof first === 'string' && SIGNAL_MESSAGES.some((m) => first.startsWith(m))) {
        log.debug({ component: 'signal' }, first.split('\n')[0]!.slice(0, 200));
        return;
      }
      original(...args);
    };
  }
}
