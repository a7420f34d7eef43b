import { createHash } from 'node:crypto';
import { sql, type Insertable } from 'kysely';
import type { Logger } from 'pino';
import { readSession } from '../../core/sessions.js';
import { contentSummary } from '../../core/content-summary.js';
import { newWhatsAppMessageId, randomBase62 } from '../../core/ids.js';
import { pageOf } from '../../core/pagination.js';
import { queryTemplate } from '../../store/query-template.js';
import type { SandboxSendsTable } from '../../store/schema.js';
import type { Store } from '../../store/store.js';
import type { SessionOwnership } from '../../core/scale-out/session-ownership.js';
import { reachoutSentence, type RestrictionsReport } from '../../core/restrictions/restrictions.js';
import { SendPacer, type PacingOptions } from '../send-pacer.js';
import type { DisconnectReason, DriverEvents, Group, IncomingChange, IncomingMessage, OutgoingMessage, PresenceState, ReadTarget, ReceiptKind, SendOutcome, SessionView, WhatsAppDriver } from '../driver.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export const SANDBOX_PENDING_MS = 30_000;
/** Another process sharing the database sees a state change within this time. */
const SESSION_CACHE_MS = 1000;

/** One send on the simulated network, built once (it runs for every message the sandbox sends). */
const insertSandboxSend = queryTemplate((db, r: Omit<Insertable<SandboxSendsTable>, 'seq'>) =>
  db.insertInto('sandbox_sends').values({
    account_id: r.account_id,
    message_id: r.message_id,
    wa_message_id: r.wa_message_id,
    recipient: r.recipient,
    kind: r.kind,
    at: r.at,
    content: r.content,
    sent_by: r.sent_by,
    lease_token: r.lease_token,
  }),
);

/** A fake number for the account, stable across restarts: 1555 and seven digits. */
export function sandboxPhone(accountId: string): string {
  const n = createHash('sha256').update(accountId).digest().readUInt32BE(0) % 10_000_000;
  return `1555${String(n).padStart(7, '0')}`;
}

export interface SandboxTestingAids {
  /**
   * Testing aid (SANDBOX_HANG_AFTER_SENDS): the send that puts this many messages on the network
   * never answers, as if the process froze between the network and recording the outcome — the
   * window a crash test kills the process in.
   */
  hangAfterSends?: number;
  /** Spaces one account's sends as the real driver does (SANDBOX_PACING_MIN_MS/MAX_MS); none by default. */
  pacing?: PacingOptions;
}

function view(state: SessionView['state'], phone: string | null, reason: string | null = null, detail: string | null = null): SessionView {
  return { state, phone, reason, qr: null, pairingCode: null, detail };
}

/**
 * A simulated phone for trying the API and for tests. Every account starts linked; magic
 * recipients behave like test cards (…0000 is not on WhatsApp, …0001 stays pending for 30 s,
 * …0463 is refused as WhatsApp refuses a restricted number's new chats).
 * Its network is a table in the gateway's database, committed before the outcome of the send —
 * as a real network has the message before the gateway records the outcome — so a crash between
 * the two shows up as a message sent again (under the same WhatsApp id), and the table can prove
 * that nothing was lost.
 */
export class SandboxDriver implements WhatsAppDriver {
  readonly name = 'sandbox' as const;

  constructor(
    private readonly store: Store,
    private readonly events: DriverEvents,
    private readonly clock: () => number = Date.now,
    private readonly testing: SandboxTestingAids = {},
    /** Several processes on one PostgreSQL: each session (account) is sent from its lease holder only. */
    private readonly ownership?: SessionOwnership,
    private readonly log?: Pick<Logger, 'error'>,
  ) {
    this.pacer = new SendPacer(testing.pacing ?? { minMs: 0, maxMs: 0 }, clock);
  }

  private sendsOnNetwork = 0;
  private readonly pacer: SendPacer;

  async start(): Promise<void> {
    await this.ownership?.start({ sessions: () => sandboxSessions(this.store) });
  }

  async stop(): Promise<void> {
    await this.ownership?.stop();
  }

  async accountsServedElsewhere(): Promise<string[]> {
    return this.ownership ? this.ownership.accountsHeldElsewhere() : [];
  }

  /** Recently read states: a send asks on every request, and the state changes rarely. */
  private readonly recent = new Map<string, { view: SessionView; until: number }>();

  async session(accountId: string): Promise<SessionView> {
    const now = this.clock();
    const cached = this.recent.get(accountId);
    if (cached && cached.until > now) return cached.view;
    const stored = await readSession(this.store.db, accountId);
    const current = stored ? view(stored.state, stored.phone, stored.reason, stored.detail) : view('connected', sandboxPhone(accountId));
    if (this.recent.size > 10_000) this.recent.clear();
    this.recent.set(accountId, { view: current, until: now + SESSION_CACHE_MS });
    return current;
  }

  private async changeSession(accountId: string, next: SessionView): Promise<void> {
    this.recent.delete(accountId);
    await this.events.sessionChanged(accountId, next);
    this.recent.delete(accountId);
  }

  async isConnected(accountId: string): Promise<boolean> {
    return (await this.session(accountId)).state === 'connected';
  }

  async link(accountId: string): Promise<SessionView> {
    const linked = view('connected', sandboxPhone(accountId));
    await this.changeSession(accountId, linked);
    return linked;
  }

  async pair(accountId: string, phone: string): Promise<SessionView> {
    const linked = view('connected', phone);
    await this.changeSession(accountId, linked);
    return { ...linked, pairingCode: randomBase62(8).toUpperCase() };
  }

  async logout(accountId: string): Promise<void> {
    await this.changeSession(accountId, view('unlinked', null, null, 'Logged out. Link again to send.'));
  }

  async send(message: OutgoingMessage): Promise<SendOutcome> {
    const now = this.clock();
    if (message.recipient.endsWith('0000')) {
      return { status: 'failed', error: `The number ${message.recipient} is not on WhatsApp.` };
    }
    if (message.recipient.endsWith('0463')) {
      return { status: 'failed', error: `WhatsApp refused the message (463). ${reachoutSentence(null)}`, code: 'reachout_restricted' };
    }
    if (message.recipient.endsWith('0001') && now < message.createdAt + SANDBOX_PENDING_MS) {
      return { status: 'retry', at: message.createdAt + SANDBOX_PENDING_MS, error: 'Sandbox: held pending for 30 seconds.', countsAsAttempt: false };
    }
    await this.pacer.wait(message.accountId);
    const at = this.clock();
    // The fence, once more right before the network: loading media or pacing may have taken a while.
    if (this.ownership && message.leaseToken !== undefined && this.ownership.sendToken(message.accountId) !== message.leaseToken) {
      return { status: 'retry', at: at + 1_000, error: 'This process no longer holds the session.', countsAsAttempt: false };
    }
    const row = {
      account_id: message.accountId,
      message_id: message.id,
      wa_message_id: message.waMessageId,
      recipient: message.recipient,
      kind: message.kind,
      at,
      content: JSON.stringify(sandboxSummary(message)),
      sent_by: this.ownership?.id ?? null,
      lease_token: message.leaseToken ?? null,
    };
    if (this.store.dialect === 'postgres' && row.lease_token !== null) {
      // One statement in its own implicit transaction: the network has the message once the server
      // has the statement, even if this process is paused before it hears back (as a socket would).
      // WhatsApp keeps one connection per device: a newer holder's connection replaces an older one
      // (conflict 440), so the simulated network refuses a send under a token older than the latest.
      const written = await sql`
        insert into sandbox_sends (account_id, message_id, wa_message_id, recipient, kind, at, content, sent_by, lease_token)
        select ${row.account_id}, ${row.message_id}, ${row.wa_message_id}, ${row.recipient}, ${row.kind}, ${row.at}, ${row.content}, ${row.sent_by}, ${row.lease_token}
        where not exists (select 1 from wa_session_leases where account_id = ${row.account_id} and token > ${row.lease_token})
      `.execute(this.store.db);
      if (Number(written.numAffectedRows ?? 0n) === 0) {
        return { status: 'retry', at: at + 1_000, error: 'WhatsApp replaced this connection: another process holds the session now.', countsAsAttempt: false };
      }
    } else if (this.store.dialect === 'postgres') {
      await insertSandboxSend(this.store.db, row);
    } else {
      // Handed to the network as bytes to a socket: the lane goes on without waiting for the
      // commit. Writes commit in the order they are queued, so the outcome of this send (queued
      // later) never commits before its network record, and the outcome's flush carries the record
      // to disk; a crash can lose both only, and the message, still pending, goes out again.
      this.store
        .write((tx) => insertSandboxSend(tx, row), { durable: false })
        .catch((error: unknown) => this.log?.error({ err: error, messageId: row.message_id }, 'the sandbox could not record a send on its network'));
    }
    this.pacer.sent(message.accountId);
    if (++this.sendsOnNetwork === this.testing.hangAfterSends) await new Promise<never>(() => {});
    return { status: 'sent', at };
  }

  /** Presence and read marks reach the simulated network too: recorded with no message of the log. */
  async sendPresence(accountId: string, chat: string, state: PresenceState): Promise<void> {
    await this.recordSignal(accountId, chat, 'presence', { text: null, fileName: null, media: null, presence: state });
  }

  async markRead(accountId: string, chat: string, targets: ReadTarget[]): Promise<void> {
    await this.recordSignal(accountId, chat, 'read', { text: null, fileName: null, media: null, read: { messageIds: targets.map((t) => t.waMessageId) } });
  }

  private async recordSignal(accountId: string, chat: string, kind: string, content: object): Promise<void> {
    const at = this.clock();
    await this.store.write((tx) =>
      tx.insertInto('sandbox_sends').values({ account_id: accountId, message_id: '', wa_message_id: '', recipient: chat, kind, at, content: JSON.stringify(content) }).execute(),
    );
  }

  async groups(accountId: string): Promise<Group[]> {
    const digits = createHash('sha256').update(accountId).digest('hex').replace(/[a-f]/g, '').padEnd(12, '7').slice(0, 12);
    return [
      { id: `120363${digits}@g.us`, name: 'Sandbox team', participants: 4 },
      { id: `120364${digits}@g.us`, name: 'Sandbox customers', participants: 12 },
    ];
  }

  /** Someone writes to the linked number (SPEC §8, §11: `POST /api/v1/sandbox/incoming`): any kind, as the real driver reports it. */
  async simulateIncoming(accountId: string, input: Omit<IncomingMessage, 'waMessageId' | 'at'>): Promise<{ id: string; messageId: string }> {
    const waMessageId = newWhatsAppMessageId();
    const messageId = await this.events.incoming(accountId, { ...input, waMessageId, at: this.clock() });
    return { id: waMessageId, messageId };
  }

  /** Someone reacts to, edits or deletes a message, or votes on a poll. */
  async simulateChange(accountId: string, change: DistributiveOmit<IncomingChange, 'at'>): Promise<void> {
    await this.events.incomingChange(accountId, { ...change, at: this.clock() } as IncomingChange);
  }

  /** The recipient's phone reports a sent message delivered, read or played (`POST /api/v1/sandbox/receipt`). */
  async simulateReceipt(accountId: string, waMessageId: string, status: ReceiptKind): Promise<void> {
    await this.events.receipt(accountId, waMessageId, status, this.clock());
  }

  /** A simulated reach-out timelock and new-chat cap, reported as the real driver reports WhatsApp's. */
  async simulateRestrictions(accountId: string, report: RestrictionsReport): Promise<void> {
    await this.events.restrictionsChanged?.(accountId, report);
  }

  async simulateDisconnect(accountId: string, reason: DisconnectReason): Promise<void> {
    const current = await this.session(accountId);
    const detail = reason === 'logged_out' ? 'WhatsApp was unlinked from the phone. Link again to send.' : 'The connection was lost and could not be restored. Link again to send.';
    await this.changeSession(accountId, view('disconnected', current.phone, reason, detail));
  }
}

/** Every account runs a simulated session unless it was logged out or disconnected. */
async function sandboxSessions(store: Store): Promise<string[]> {
  const rows = await store.db
    .selectFrom('accounts')
    .leftJoin('wa_sessions', 'wa_sessions.account_id', 'accounts.id')
    .select('accounts.id')
    .where((eb) => eb.or([eb('wa_sessions.state', 'is', null), eb('wa_sessions.state', 'not in', ['unlinked', 'disconnected'])]))
    .execute();
  return rows.map((r) => r.id);
}

/** What the simulated network received; media by the hash of the very bytes that would have gone out. */
function sandboxSummary(message: OutgoingMessage) {
  const content = { ...message.content };
  if (message.media) {
    content.media = { mimetype: message.media.mimetype, size: message.media.bytes.length, sha256: createHash('sha256').update(message.media.bytes).digest('hex') };
  }
  return contentSummary(message.kind, message.text, message.filename, content);
}

export async function listSandboxSends(store: Store, accountId: string, limit: number, afterSeq: number | null) {
  let q = store.db.selectFrom('sandbox_sends').selectAll().where('account_id', '=', accountId);
  if (afterSeq !== null) q = q.where('seq', '>', afterSeq);
  return pageOf(await q.orderBy('seq', 'asc').limit(limit + 1).execute(), limit);
}
