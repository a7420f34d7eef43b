import { createHash } from 'node:crypto';
import { readSession } from '../../core/sessions.js';
import { contentSummary } from '../../core/content-summary.js';
import { newWhatsAppMessageId, randomBase62 } from '../../core/ids.js';
import { pageOf } from '../../core/pagination.js';
import type { Store } from '../../store/store.js';
import type { DisconnectReason, DriverEvents, Group, OutgoingMessage, PresenceState, SendOutcome, SessionView, WhatsAppDriver } from '../driver.js';

export const SANDBOX_PENDING_MS = 30_000;
/** Another process sharing the database sees a state change within this time. */
const SESSION_CACHE_MS = 1000;

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
}

function view(state: SessionView['state'], phone: string | null, reason: string | null = null, detail: string | null = null): SessionView {
  return { state, phone, reason, qr: null, pairingCode: null, detail };
}

/**
 * A simulated phone for trying the API and for tests. Every account starts linked; magic
 * recipients behave like test cards (…0000 is not on WhatsApp, …0001 stays pending for 30 s).
 * Its network is a table in the gateway's database, written in its own commit before the send
 * answers — as a real network has the message before the gateway records the outcome — so a
 * crash between the two shows up as a message sent again (under the same WhatsApp id), and the
 * table can prove that nothing was lost.
 */
export class SandboxDriver implements WhatsAppDriver {
  readonly name = 'sandbox' as const;

  constructor(
    private readonly store: Store,
    private readonly events: DriverEvents,
    private readonly clock: () => number = Date.now,
    private readonly testing: SandboxTestingAids = {},
  ) {}

  private sendsOnNetwork = 0;

  async start(): Promise<void> {}
  async stop(): Promise<void> {}

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
    if (message.recipient.endsWith('0001') && now < message.createdAt + SANDBOX_PENDING_MS) {
      return { status: 'retry', at: message.createdAt + SANDBOX_PENDING_MS, error: 'Sandbox: held pending for 30 seconds.', countsAsAttempt: false };
    }
    // The network has the message once this commits; the outcome's own (durable) commit comes after
    // it, and its flush carries this one to disk too, so it need not wait for a flush of its own.
    await this.store.write(
      (tx) =>
        tx
          .insertInto('sandbox_sends')
          .values({ account_id: message.accountId, message_id: message.id, wa_message_id: message.waMessageId, recipient: message.recipient, kind: message.kind, at: now, content: JSON.stringify(sandboxSummary(message)) })
          .execute(),
      { durable: false },
    );
    if (++this.sendsOnNetwork === this.testing.hangAfterSends) await new Promise<never>(() => {});
    return { status: 'sent', at: now };
  }

  /** Presence and read marks reach the simulated network too: recorded with no message of the log. */
  async sendPresence(accountId: string, chat: string, state: PresenceState): Promise<void> {
    await this.recordSignal(accountId, chat, 'presence', { text: null, fileName: null, media: null, presence: state });
  }

  async markRead(accountId: string, chat: string, waMessageIds: string[] | null): Promise<void> {
    await this.recordSignal(accountId, chat, 'read', { text: null, fileName: null, media: null, read: { messageIds: waMessageIds } });
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

  /** Someone writes to the linked number (SPEC §8: `POST /api/v1/sandbox/incoming`). */
  async simulateIncoming(accountId: string, input: { from: string; text: string; groupId?: string; pushName?: string }): Promise<string> {
    const waMessageId = newWhatsAppMessageId();
    await this.events.incoming(accountId, {
      waMessageId,
      from: input.from,
      pushName: input.pushName ?? null,
      type: 'text',
      text: input.text,
      groupId: input.groupId ?? null,
      participant: input.groupId ? input.from : null,
      at: this.clock(),
    });
    return waMessageId;
  }

  async simulateDisconnect(accountId: string, reason: DisconnectReason): Promise<void> {
    const current = await this.session(accountId);
    const detail = reason === 'logged_out' ? 'WhatsApp was unlinked from the phone. Link again to send.' : 'The connection was lost and could not be restored. Link again to send.';
    await this.changeSession(accountId, view('disconnected', current.phone, reason, detail));
  }
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
