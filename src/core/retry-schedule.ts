/** Delays held as data: the first entry is the first retry. Past the end, the job is given up. */
export type RetrySchedule = readonly number[];

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** Standard Webhooks' schedule: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (> 24 h in all). */
export const WEBHOOK_RETRY_SCHEDULE: RetrySchedule = [0, 5 * SECOND, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR];

/** Transient send failures (WhatsApp briefly unreachable): a few quick tries, then a slower tail. */
export const MESSAGE_RETRY_SCHEDULE: RetrySchedule = [2 * SECOND, 5 * SECOND, 15 * SECOND, 30 * SECOND, MINUTE, 2 * MINUTE, 5 * MINUTE];

/**
 * The delay before attempt number `attempt + 1` (attempts already made: `attempt`), with ±`jitter`
 * spread, or `null` when the schedule is used up.
 */
export function nextRetryDelay(schedule: RetrySchedule, attempt: number, random: () => number = Math.random, jitter = 0.2): number | null {
  const base = schedule[attempt - 1];
  if (base === undefined) return null;
  return Math.round(base * (1 - jitter + 2 * jitter * random()));
}
