import { DisconnectReason } from 'baileys';

/** What the session does after its socket closed. */
export type CloseAction =
  /** WhatsApp asks for a new socket (after linking, 515): reconnect at once. */
  | 'restart'
  /** The device was unlinked (401): forget the creds. */
  | 'logged_out'
  /** The same creds were opened elsewhere (440): stop without fighting back. */
  | 'replaced'
  /** Anything else: reconnect with backoff until the policy gives up. */
  | 'retry';

export interface ClassifiedClose {
  action: CloseAction;
  code: number | null;
  /** A short sentence for logs and the session's `detail`. */
  description: string;
}

interface BoomLike {
  message?: string;
  output?: { statusCode?: number };
}

export function statusCodeOf(error: unknown): number | null {
  const code = (error as BoomLike | undefined)?.output?.statusCode;
  return typeof code === 'number' ? code : null;
}

const NAMES: Record<number, string> = {
  [DisconnectReason.connectionClosed]: 'connection closed',
  [DisconnectReason.connectionLost]: 'connection lost or timed out',
  [DisconnectReason.connectionReplaced]: 'connection replaced',
  [DisconnectReason.loggedOut]: 'logged out',
  [DisconnectReason.badSession]: 'bad session',
  [DisconnectReason.restartRequired]: 'restart required',
  [DisconnectReason.multideviceMismatch]: 'multi-device mismatch',
  [DisconnectReason.forbidden]: 'forbidden',
  [DisconnectReason.unavailableService]: 'service unavailable',
};

/** Maps the error Baileys closes a socket with (a Boom carrying a DisconnectReason) to an action. */
export function classifyClose(error: unknown): ClassifiedClose {
  const code = statusCodeOf(error);
  const message = (error as BoomLike | undefined)?.message ?? 'closed without an error';
  const name = code === null ? 'no status code' : `${code} ${NAMES[code] ?? 'unknown reason'}`;
  const description = `${message} (${name})`;
  switch (code) {
    case DisconnectReason.restartRequired:
      return { action: 'restart', code, description };
    case DisconnectReason.loggedOut:
      return { action: 'logged_out', code, description };
    case DisconnectReason.connectionReplaced:
      return { action: 'replaced', code, description };
    default:
      return { action: 'retry', code, description };
  }
}

/** A sentence for the session's `detail` about a failure the session keeps retrying. */
export function failureAdvice(code: number | null): string {
  switch (code) {
    case DisconnectReason.badSession:
      return 'WhatsApp reports a bad session; if this keeps happening, log out and link again.';
    case DisconnectReason.forbidden:
      return 'WhatsApp refused this device (forbidden); the number may be restricted. Check WhatsApp on the phone.';
    case DisconnectReason.multideviceMismatch:
      return 'WhatsApp reports a multi-device mismatch; update WhatsApp on the phone, then link again if it persists.';
    default:
      return 'Check the server\'s internet connection.';
  }
}
