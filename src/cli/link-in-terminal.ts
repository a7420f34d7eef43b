import QRCode from 'qrcode';
import type { Config } from '../config.js';
import { AppError } from '../core/errors.js';
import { createLogger } from '../logger.js';
import { createRuntime } from '../runtime.js';
import type { SessionView } from '../core/driver-port.js';

export interface TerminalLinkOptions {
  accountId: string;
  /** Link with a pairing code for this phone number instead of a QR. */
  pairPhone?: string;
  out?: (text: string) => void;
  pollMs?: number;
}

/**
 * `messageapi link --account ID`: links a number from the terminal. It runs the Baileys driver for
 * this one session in this process (under the session's lease), prints each QR as WhatsApp rotates
 * it, and returns once the phone has linked; a running server picks the session up at its next
 * lease round (within SESSION_LEASE_RENEW_MS), or at its next start.
 */
export async function linkInTerminal(config: Config, options: TerminalLinkOptions): Promise<SessionView> {
  const out = options.out ?? ((text: string) => process.stdout.write(`${text}\n`));
  const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const runtime = await createRuntime({ ...config, driver: 'baileys' }, { log });
  try {
    const account = await runtime.store.db.selectFrom('accounts').select('id').where('id', '=', options.accountId).executeTakeFirst();
    if (!account) throw new AppError('not_found', `No account with id ${options.accountId}.`);
    const driver = runtime.driver;
    let view = options.pairPhone ? await driver.pair(options.accountId, options.pairPhone.replace(/\D/g, '')) : await driver.link(options.accountId);
    if (view.state === 'connected') {
      out(`This account is already linked to +${view.phone}. Log out first (POST /api/v1/session/logout) to link another number.`);
      return view;
    }
    let shown: string | null = null;
    for (;;) {
      if (view.state === 'connected') {
        out(`Linked: +${view.phone}. The server connects this number within ${Math.ceil(config.sessionLeases.renewMs / 1000)} s (or when it starts).`);
        return view;
      }
      if (view.state === 'unlinked' || view.state === 'disconnected') throw new AppError('service_unavailable', view.detail ?? 'Linking stopped.');
      const shownNow = view.pairingCode ?? view.qr;
      if (shownNow && shownNow !== shown) {
        shown = shownNow;
        if (view.pairingCode) {
          out(`Pairing code: ${view.pairingCode}`);
        } else {
          out(await QRCode.toString(shownNow, { type: 'terminal', small: true }));
        }
        out(view.detail ?? '');
      }
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 500));
      view = await driver.session(options.accountId);
    }
  } finally {
    await runtime.close();
  }
}
