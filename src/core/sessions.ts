import type { Store, Tx } from '../store/store.js';
import type { SessionView } from './driver-port.js';
import type { EventRecorder } from './events.js';

/** Announces each recorded session change (payload: the account id) to every process sharing the database. */
const SESSION_CHANGED = 'mapi_session_changed';

/** Calls `changed` after each committed change of the account's session, in any process; answers a function that stops. */
export function watchSessionChanges(store: Store, accountId: string, changed: () => void): Promise<() => void> {
  return store.signals.listen(SESSION_CHANGED, (payload) => {
    if (payload === accountId) changed();
  });
}

export interface StoredSession {
  state: SessionView['state'];
  phone: string | null;
  reason: string | null;
  detail: string | null;
  updatedAt: number;
}

export async function readSession(db: Tx, accountId: string): Promise<StoredSession | undefined> {
  const row = await db.selectFrom('wa_sessions').selectAll().where('account_id', '=', accountId).executeTakeFirst();
  return row ? { state: row.state as SessionView['state'], phone: row.phone, reason: row.reason, detail: row.detail, updatedAt: row.updated_at } : undefined;
}

/**
 * Persists a driver's session state. A move into `disconnected` (a real disconnect, not a blip
 * that reconnects) raises `session.disconnected` in the same transaction, once.
 */
export async function recordSessionChange(store: Store, events: EventRecorder, accountId: string, view: SessionView, now: number): Promise<void> {
  await store.write(async (tx) => {
    const previous = await readSession(tx, accountId);
    await tx
      .insertInto('wa_sessions')
      .values({ account_id: accountId, state: view.state, phone: view.phone, reason: view.reason, detail: view.detail, updated_at: now })
      .onConflict((oc) =>
        oc.column('account_id').doUpdateSet({ state: view.state, phone: view.phone, reason: view.reason, detail: view.detail, updated_at: now }),
      )
      .execute();
    await store.signals.notify(tx, SESSION_CHANGED, accountId);
    const reason = view.reason === 'logged_out' || view.reason === 'connection_lost' ? view.reason : null;
    if (view.state === 'disconnected' && previous?.state !== 'disconnected' && reason) {
      await events.record(tx, accountId, { event: 'session.disconnected', phone: view.phone ?? previous?.phone ?? null, reason }, now);
    }
  });
}
