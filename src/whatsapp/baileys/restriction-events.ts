import type { Logger } from 'pino';
import type { RestrictionsReport } from '../../core/restrictions/restrictions.js';
import type { SocketLike } from './socket-factory.js';

/** Baileys 7's account limits (lib/Socket/socket.js): present on real sockets, absent on older fakes. */
export interface RestrictionQueries {
  fetchAccountReachoutTimelock?(): Promise<{ isActive: boolean; timeEnforcementEnds?: Date }>;
  fetchNewChatMessageCap?(): Promise<unknown>;
}

interface CapInfo {
  total_quota?: number;
  used_quota?: number;
  cycle_end_timestamp?: string;
}

/** WhatsApp's cap info (NewChatMessageCapInfo): seconds since the epoch as strings. */
export function capReport(info: unknown): RestrictionsReport['cap'] | undefined {
  if (!info || typeof info !== 'object') return undefined;
  const cap = info as CapInfo;
  const number = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : null);
  const end = number(cap.cycle_end_timestamp);
  return { used: number(cap.used_quota), total: number(cap.total_quota), cycleEndsAt: end === null ? null : end * 1000 };
}

/**
 * Reports the number's limits: asked once when the socket opens, then as WhatsApp tells of a
 * change (the timelock on `connection.update`, the cap on `message-capping.update`) — never per send.
 */
export function attachRestrictionEvents(accountId: string, socket: SocketLike & RestrictionQueries, report: (accountId: string, r: RestrictionsReport) => Promise<void>, log: Logger): void {
  const send = (r: RestrictionsReport) => void report(accountId, r).catch((error) => log.warn({ err: error, accountId }, 'could not record WhatsApp restrictions'));
  socket.ev.on('connection.update', (update) => {
    const lock = (update as { reachoutTimeLock?: { isActive: boolean; timeEnforcementEnds?: Date } }).reachoutTimeLock;
    if (lock) send({ timelock: { active: lock.isActive, until: lock.isActive && lock.timeEnforcementEnds ? lock.timeEnforcementEnds.getTime() : null } });
    if (update.connection === 'open') {
      // The timelock query answers through connection.update (above); the cap query answers here.
      socket.fetchAccountReachoutTimelock?.().catch((error: unknown) => log.debug({ err: error, accountId }, 'reach-out timelock query failed'));
      socket
        .fetchNewChatMessageCap?.()
        .then((info) => {
          const cap = capReport(info);
          if (cap) send({ cap });
        })
        .catch((error: unknown) => log.debug({ err: error, accountId }, 'new-chat cap query failed'));
    }
  });
  socket.ev.on('message-capping.update' as never, ((info: unknown) => {
    const cap = capReport(info);
    if (cap) send({ cap });
  }) as never);
}

/**
 * A 463 is WhatsApp telling of a restriction: ask for the timelock once (its answer comes through
 * `connection.update`, above). Baileys 7.0.0-rc14 takes a 463 ack for a missing privacy token and
 * does not ask: its own timelock query sits in a branch a 463 never reaches (handleBadAck).
 */
export function askTimelockAfter463(accountId: string, socket: SocketLike & RestrictionQueries, log: Logger): void {
  socket.fetchAccountReachoutTimelock?.().catch((error: unknown) => log.debug({ err: error, accountId }, 'reach-out timelock query after a 463 failed'));
}
