import { randomBytes } from 'node:crypto';
import { QueryIds, type BinaryNode } from 'baileys';
import { childNode } from './linking.js';

const SERVER = 's.whatsapp.net';
const seconds = (ms: number) => String(Math.floor(ms / 1000));

/** WhatsApp's limits on one number, as a test sets them. Times in ms since the epoch. */
export interface NumberLimits {
  /** When the reach-out timelock ends; absent: the number may start new chats. */
  timelockUntil?: number;
  /** The new-chat message cap of the current cycle. */
  cap?: { used: number; total: number; cycleEndsAt: number };
}

/** A change a test makes: `timelockUntil: null` lifts the timelock; an absent field stays as it was. */
export interface LimitsChange {
  timelockUntil?: number | null;
  cap?: NumberLimits['cap'];
}

/**
 * WhatsApp's reach-out timelock and new-chat cap, per number, as Baileys 7 meets them: the answers
 * to its two `w:mex` queries (fetchAccountReachoutTimelock, fetchNewChatMessageCap in
 * lib/Socket/socket.js), the `mex` notifications WhatsApp pushes when they change (parsed in
 * lib/Socket/messages-recv.js), and whether a message opens a new chat while the number is locked
 * (the server then refuses it with a 463 ack).
 */
export class Limits {
  private readonly byPhone = new Map<string, NumberLimits>();

  of(phone: string): NumberLimits {
    return { ...this.byPhone.get(phone) };
  }

  /** Applies a change; answers the notifications WhatsApp sends the number's devices for it. */
  change(phone: string, change: LimitsChange): BinaryNode[] {
    const next = this.of(phone);
    const notifications: BinaryNode[] = [];
    if (change.timelockUntil !== undefined) {
      if (change.timelockUntil === null) delete next.timelockUntil;
      else next.timelockUntil = change.timelockUntil;
      notifications.push(mexNotification('NotificationUserReachoutTimelockUpdate', { xwa2_notify_account_reachout_timelock: timelockJson(next, Date.now()) }));
    }
    if (change.cap) {
      next.cap = { ...change.cap };
      notifications.push(mexNotification('MessageCappingInfoNotification', { xwa2_notify_new_chat_messages_capping_info_update: capJson(next.cap) }));
    }
    this.byPhone.set(phone, next);
    return notifications;
  }

  timelocked(phone: string, now = Date.now()): boolean {
    const until = this.byPhone.get(phone)?.timelockUntil;
    return until !== undefined && until > now;
  }

  /** The `<result>` of a `w:mex` query, or undefined for a query this server does not know. */
  mexAnswer(iq: BinaryNode, phone: string | undefined): BinaryNode[] | undefined {
    const queryId = childNode(iq, 'query')?.attrs.query_id;
    const limits = phone ? this.of(phone) : {};
    let data: Record<string, unknown> | undefined;
    if (queryId === QueryIds.REACHOUT_TIMELOCK) data = { xwa2_fetch_account_reachout_timelock: timelockJson(limits, Date.now()) };
    if (queryId === QueryIds.MESSAGE_CAPPING_INFO) data = { xwa2_message_capping_info: limits.cap ? capJson(limits.cap) : { total_quota: 0, used_quota: 0, capping_status: 'NONE' } };
    if (!data) return undefined;
    return [{ tag: 'result', attrs: {}, content: Buffer.from(JSON.stringify({ data })) }];
  }
}

function timelockJson(limits: NumberLimits, now: number) {
  const active = limits.timelockUntil !== undefined && limits.timelockUntil > now;
  return active ? { is_active: true, time_enforcement_ends: seconds(limits.timelockUntil!), enforcement_type: 'BIZ_QUALITY' } : { is_active: false, time_enforcement_ends: '0', enforcement_type: 'DEFAULT' };
}

function capJson(cap: NonNullable<NumberLimits['cap']>) {
  const status = cap.used >= cap.total ? 'CAPPED' : cap.used >= cap.total * 0.8 ? 'FIRST_WARNING' : 'NONE';
  return { total_quota: cap.total, used_quota: cap.used, cycle_end_timestamp: seconds(cap.cycleEndsAt), server_sent_timestamp: seconds(Date.now()), capping_status: status };
}

/** A `mex` notification: its operation's name, and its GraphQL payload as JSON. */
function mexNotification(opName: string, data: Record<string, unknown>): BinaryNode {
  return {
    tag: 'notification',
    attrs: { from: SERVER, type: 'mex', id: `mex-${randomBytes(4).toString('hex')}`, t: seconds(Date.now()) },
    content: [{ tag: 'update', attrs: { op_name: opName }, content: Buffer.from(JSON.stringify({ data })) }],
  };
}
