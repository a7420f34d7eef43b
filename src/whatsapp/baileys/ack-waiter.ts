import type { BinaryNode } from 'baileys';

/** How a sent message's wait for the server ended. */
export type AckResult = { ok: true } | { ok: false; reason: 'closed' } | { ok: false; reason: 'timeout' } | { ok: false; reason: 'error'; code: string };

interface Waiter {
  resolve(result: AckResult): void;
  timer: NodeJS.Timeout;
}

/**
 * Waits for WhatsApp's server `ack` of each message we send: the moment a message is `sent`.
 * A socket that closes first, or a server that does not answer in time, ends the wait without
 * an ack, and the message is sent again later under the same id (WhatsApp drops a repeated id).
 */
export class AckWaiter {
  private readonly waiting = new Map<string, Waiter>();

  /** The stanza handler to register on a socket's `CB:ack,class:message`. */
  readonly onAck = (node: BinaryNode): void => {
    const id = node.attrs.id;
    if (!id) return;
    const error = node.attrs.error;
    this.finish(id, error ? { ok: false, reason: 'error', code: error } : { ok: true });
  };

  /** Starts waiting for `messageId` (call before sending, so a quick ack is not missed). */
  wait(messageId: string, timeoutMs: number): Promise<AckResult> {
    this.finish(messageId, { ok: false, reason: 'closed' });
    return new Promise<AckResult>((resolve) => {
      const timer = setTimeout(() => this.finish(messageId, { ok: false, reason: 'timeout' }), timeoutMs);
      this.waiting.set(messageId, { resolve, timer });
    });
  }

  cancel(messageId: string): void {
    this.finish(messageId, { ok: false, reason: 'closed' });
  }

  /** The socket is gone: nothing in flight will be acked on it. */
  closeAll(): void {
    for (const id of [...this.waiting.keys()]) this.finish(id, { ok: false, reason: 'closed' });
  }

  private finish(messageId: string, result: AckResult): void {
    const waiter = this.waiting.get(messageId);
    if (!waiter) return;
    this.waiting.delete(messageId);
    clearTimeout(waiter.timer);
    waiter.resolve(result);
  }
}
