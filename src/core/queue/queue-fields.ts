import { AppError } from '../errors.js';

/** How urgent a message is within its account's queue; stored as 0, 1, 2 so the outbox sorts by it. */
export type Priority = 'high' | 'normal' | 'low';
export const PRIORITY_RANK: Readonly<Record<Priority, number>> = Object.freeze({ high: 0, normal: 1, low: 2 });
export const PRIORITY_NAMES: readonly Priority[] = ['high', 'normal', 'low'];

export function priorityName(rank: number): Priority {
  return PRIORITY_NAMES[rank] ?? 'normal';
}

/** The queue fields as a send request gives them (every send endpoint and each bulk item). */
export interface QueueInput {
  sendAt?: string;
  expiresAt?: string;
  /** Seconds from acceptance (or from `sendAt`) until the message is no longer worth sending. */
  ttl?: number;
  priority?: Priority;
}

/** The same, checked and resolved to times. */
export interface QueueFields {
  /** When the message may go; null: at once. */
  sendAt: number | null;
  expiresAt: number | null;
  priority: number;
}

export const NO_QUEUE_FIELDS: QueueFields = Object.freeze({ sendAt: null, expiresAt: null, priority: PRIORITY_RANK.normal });

function parseTime(value: string, name: string): number {
  // ISO 8601 with a date and a time and an explicit zone: a local time would mean different instants on different servers.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i.test(value)) {
    throw new AppError('invalid_parameter', `Invalid parameter: ${name} — give an ISO 8601 time with its zone, such as 2026-12-01T09:30:00Z.`);
  }
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new AppError('invalid_parameter', `Invalid parameter: ${name} — ${value} is not a real time.`);
  return ms;
}

/**
 * Checks `sendAt` (not in the past beyond a minute of clock skew, at most `maxScheduleMs` ahead),
 * `expiresAt` or `ttl` (not both; after `sendAt` and after now) and `priority`.
 */
export function resolveQueueFields(input: QueueInput, now: number, maxScheduleMs: number): QueueFields {
  let sendAt: number | null = null;
  if (input.sendAt !== undefined) {
    const at = parseTime(input.sendAt, 'sendAt');
    if (at > now + maxScheduleMs) {
      const days = Math.round(maxScheduleMs / 86_400_000);
      throw new AppError('invalid_parameter', `Invalid parameter: sendAt — a message can be scheduled at most ${days} days ahead.`);
    }
    // A time already past (a slow client, a clock a little behind) means "now".
    sendAt = at > now ? at : null;
  }
  if (input.expiresAt !== undefined && input.ttl !== undefined) {
    throw new AppError('invalid_parameter', 'Invalid parameter: give either expiresAt or ttl, not both.');
  }
  let expiresAt: number | null = null;
  if (input.expiresAt !== undefined) expiresAt = parseTime(input.expiresAt, 'expiresAt');
  if (input.ttl !== undefined) expiresAt = (sendAt ?? now) + input.ttl * 1000;
  if (expiresAt !== null && expiresAt <= (sendAt ?? now)) {
    throw new AppError('invalid_parameter', `Invalid parameter: expiresAt — it must come after ${sendAt === null ? 'now' : 'sendAt'}, or the message could never be sent.`);
  }
  return { sendAt, expiresAt, priority: PRIORITY_RANK[input.priority ?? 'normal'] };
}
