import { queryTemplate } from '../../store/query-template.js';
import type { Store, Tx } from '../../store/store.js';
import { hasChatWith } from '../chat-history.js';
import { AppError } from '../errors.js';
import type { EventRecorder } from '../events.js';

/** What WhatsApp says of the number's limits (SPEC §11), as GET /api/v1/status shows it. */
export interface RestrictionsView {
  reachoutTimelock: { active: boolean; until: string | null };
  newChatCap: { used: number | null; total: number | null; cycleEndsAt: string | null };
}

/** A driver's report: only the parts it learnt (a timelock notification says nothing of the cap). */
export interface RestrictionsReport {
  timelock?: { active: boolean; until: number | null };
  cap?: { used: number | null; total: number | null; cycleEndsAt: number | null };
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

interface Row {
  timelock_active: number;
  timelock_until: number | null;
  cap_used: number | null;
  cap_total: number | null;
  cap_cycle_ends_at: number | null;
}

// On every send's path (the reach-out check): built once, not per call.
const restrictionRow = queryTemplate((db, a: { accountId: string }) =>
  db.selectFrom('account_restrictions').select(['timelock_active', 'timelock_until', 'cap_used', 'cap_total', 'cap_cycle_ends_at']).where('account_id', '=', a.accountId),
);

async function readRow(db: Tx, accountId: string): Promise<Row | undefined> {
  return (await restrictionRow(db, { accountId })).rows[0];
}

/** A timelock is active while WhatsApp said so and its end (when it gave one) is still ahead. */
function timelockActive(row: Row | undefined, now: number): boolean {
  if (!row || row.timelock_active !== 1) return false;
  return row.timelock_until === null || Number(row.timelock_until) > now;
}

export async function readRestrictions(db: Tx, accountId: string, now: number): Promise<RestrictionsView> {
  const row = await readRow(db, accountId);
  const active = timelockActive(row, now);
  return {
    reachoutTimelock: { active, until: active && row?.timelock_until != null ? iso(Number(row.timelock_until)) : null },
    newChatCap: {
      used: row?.cap_used ?? null,
      total: row?.cap_total ?? null,
      cycleEndsAt: row?.cap_cycle_ends_at == null ? null : iso(Number(row.cap_cycle_ends_at)),
    },
  };
}

/**
 * Stores a driver's report. A timelock that starts raises `account.restricted` (and its e-mail,
 * through the recorder); one that ends raises `account.restriction_lifted` — in the same commit.
 * One whose end passed before anything noticed (see timelock-lapse.ts) is lifted here first, so its
 * `account.restriction_lifted` is raised once, whichever notices it. The account's row is locked
 * (PostgreSQL) so that a report and the lapse sweep never both raise it.
 */
export async function recordRestrictions(store: Store, events: EventRecorder, accountId: string, report: RestrictionsReport, now: number): Promise<void> {
  await store.write(async (tx) => {
    if (store.locksRows) await tx.selectFrom('accounts').select('id').where('id', '=', accountId).forUpdate().execute();
    const before = await readRow(tx, accountId);
    const next: Row = {
      timelock_active: report.timelock ? (report.timelock.active ? 1 : 0) : (before?.timelock_active ?? 0),
      timelock_until: report.timelock ? (report.timelock.active ? report.timelock.until : null) : (before?.timelock_until ?? null),
      cap_used: report.cap ? report.cap.used : (before?.cap_used ?? null),
      cap_total: report.cap ? report.cap.total : (before?.cap_total ?? null),
      cap_cycle_ends_at: report.cap ? report.cap.cycleEndsAt : (before?.cap_cycle_ends_at ?? null),
    };
    // A timelock already over is stored as none: nothing is left to lift later.
    if (next.timelock_active === 1 && !timelockActive(next, now)) {
      next.timelock_active = 0;
      next.timelock_until = null;
    }
    await tx
      .insertInto('account_restrictions')
      .values({ account_id: accountId, ...next, updated_at: now })
      .onConflict((oc) => oc.column('account_id').doUpdateSet({ ...next, updated_at: now }))
      .execute();
    const lapsedUnnoticed = before?.timelock_active === 1 && !timelockActive(before, now);
    const was = timelockActive(before, now);
    const is = timelockActive(next, now);
    if ((was && !is) || lapsedUnnoticed) await events.record(tx, accountId, LIFTED, now);
    if (!was && is) {
      await events.record(tx, accountId, { event: 'account.restricted', restriction: { type: 'reachout_timelock', until: iso(next.timelock_until) } }, now);
    }
  });
}

export const LIFTED = { event: 'account.restriction_lifted', restriction: { type: 'reachout_timelock' } } as const;

/** What a timelock means, and when it may lift, for the refusal and the failed message. */
export function reachoutSentence(until: string | null): string {
  const when = until ? ` WhatsApp says it lifts at ${until}.` : ' WhatsApp did not say when it lifts; it usually does within hours to a few days.';
  return `WhatsApp has restricted this number from starting new chats (reach-out timelock, error 463), usually after many messages to people who never wrote back.${when} Messages to people who already chat with this number still go; do not retry, it makes the restriction longer.`;
}

/**
 * While the timelock is active a message to someone the account has never chatted with would be
 * refused by WhatsApp (and count against the number): refused here first. "Chatted with": a message
 * of the log was sent to that number or received from it (the inbox). Groups and existing chats flow.
 */
export async function checkReachout(db: Tx, accountId: string, recipient: { value: string; isGroup: boolean }, now: number): Promise<void> {
  if (recipient.isGroup) return;
  const row = await readRow(db, accountId);
  if (!timelockActive(row, now)) return;
  if (await hasChatWith(db, accountId, recipient.value, ['sent', 'received'])) return;
  throw new AppError('reachout_restricted', `Not sent to ${recipient.value}, a number this account has never chatted with: ${reachoutSentence(iso(row!.timelock_until === null ? null : Number(row!.timelock_until)))}`);
}
