import type { Group, PresenceState, ReadTarget, SessionView, WhatsAppDriver } from './driver-port.js';

/**
 * The calls on a session that need its live socket (or its in-memory state: the QR while linking),
 * wherever that socket is. One process (SQLite, or a single PostgreSQL process): straight to the
 * local driver. Several processes on one PostgreSQL: the process that holds the session runs them,
 * reached through the database; the caller needs no sticky routing.
 */
export interface SessionCalls {
  session(accountId: string): Promise<SessionView>;
  isConnected(accountId: string): Promise<boolean>;
  link(accountId: string): Promise<SessionView>;
  pair(accountId: string, phone: string): Promise<SessionView>;
  logout(accountId: string): Promise<void>;
  groups(accountId: string): Promise<Group[]>;
  sendPresence(accountId: string, chat: string, state: PresenceState): Promise<void>;
  markRead(accountId: string, chat: string, targets: ReadTarget[]): Promise<void>;
}

/** The calls a holder runs for another process, by name: what goes into a forwarded call's row. */
export type SessionCallName = 'session' | 'link' | 'pair' | 'logout' | 'groups' | 'sendPresence' | 'markRead';

export const SESSION_CALL_NAMES: readonly SessionCallName[] = Object.freeze(['session', 'link', 'pair', 'logout', 'groups', 'sendPresence', 'markRead']);

/** Runs a named call on a driver with its arguments (after the account id) as they were stored. */
export function runOnDriver(driver: WhatsAppDriver, call: SessionCallName, accountId: string, args: unknown[]): Promise<unknown> {
  switch (call) {
    case 'session':
      return driver.session(accountId);
    case 'link':
      return driver.link(accountId);
    case 'pair':
      return driver.pair(accountId, String(args[0]));
    case 'logout':
      return driver.logout(accountId);
    case 'groups':
      return driver.groups(accountId);
    case 'sendPresence':
      return driver.sendPresence(accountId, String(args[0]), args[1] as PresenceState);
    case 'markRead':
      return driver.markRead(accountId, String(args[0]), args[1] as ReadTarget[]);
  }
}

/** SQLite, or no other process: every call is the local driver's. */
export class LocalSessionCalls implements SessionCalls {
  constructor(private readonly driver: WhatsAppDriver) {}

  session(accountId: string) {
    return this.driver.session(accountId);
  }
  isConnected(accountId: string) {
    return this.driver.isConnected(accountId);
  }
  link(accountId: string) {
    return this.driver.link(accountId);
  }
  pair(accountId: string, phone: string) {
    return this.driver.pair(accountId, phone);
  }
  logout(accountId: string) {
    return this.driver.logout(accountId);
  }
  groups(accountId: string) {
    return this.driver.groups(accountId);
  }
  sendPresence(accountId: string, chat: string, state: PresenceState) {
    return this.driver.sendPresence(accountId, chat, state);
  }
  markRead(accountId: string, chat: string, targets: ReadTarget[]) {
    return this.driver.markRead(accountId, chat, targets);
  }
}
