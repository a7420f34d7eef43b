import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Received {
  id: string;
  timestamp: string;
  body: string;
  verified: boolean;
  at: number;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  /** Never answer (until the receiver closes). */
  hang?: boolean;
  /** Send the status and the start of the body, then nothing more (until the receiver closes). */
  trickle?: boolean;
  delayMs?: number;
  /** The answer's body (default "ok" or "nope"). */
  body?: string;
}

/**
 * A real webhook receiver on 127.0.0.1 that checks every request with the `standardwebhooks`
 * package (an implementation independent of ours) and answers as the test tells it.
 */
export class TestReceiver {
  readonly received: Received[] = [];
  secret: string | undefined;
  answer: (request: Received, n: number) => Answer = () => ({ status: 200 });
  private server!: http.Server;
  private readonly hanging = new Set<http.ServerResponse>();
  /** Requests being held open right now, and the most there ever were at once. */
  open = 0;
  maxOpen = 0;

  static async start(): Promise<TestReceiver> {
    const receiver = new TestReceiver();
    receiver.server = http.createServer((req, res) => receiver.onRequest(req, res));
    receiver.server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  /** The verified events, parsed. */
  events(): Array<{ id: string; body: Record<string, any> }> {
    return this.received.filter((r) => r.verified).map((r) => ({ id: r.id, body: JSON.parse(r.body) }));
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = { 'webhook-id': String(req.headers['webhook-id']), 'webhook-timestamp': String(req.headers['webhook-timestamp']), 'webhook-signature': String(req.headers['webhook-signature']) };
      let verified = false;
      try {
        if (this.secret) {
          new Webhook(this.secret).verify(body, headers);
          verified = true;
        }
      } catch {
        verified = false;
      }
      const record: Received = { id: headers['webhook-id'], timestamp: headers['webhook-timestamp'], body, verified, at: Date.now() };
      this.received.push(record);
      if (!verified) {
        res.writeHead(401).end('bad signature');
        return;
      }
      const answer = this.answer(record, this.received.length);
      if (answer.hang || answer.trickle) {
        if (answer.trickle) res.writeHead(answer.status).write('the start of an answer');
        this.hanging.add(res);
        this.open++;
        this.maxOpen = Math.max(this.maxOpen, this.open);
        res.on('close', () => {
          this.hanging.delete(res);
          this.open--;
        });
        return;
      }
      const send = () => res.writeHead(answer.status, answer.headers).end(answer.body ?? (answer.status < 300 ? 'ok' : 'nope'));
      if (answer.delayMs) setTimeout(send, answer.delayMs);
      else send();
    });
  }
}

/** Receivers a test file starts as it goes, closed together after it. */
export function receiverPool(): { start(): Promise<TestReceiver>; close(): Promise<void> } {
  const started: TestReceiver[] = [];
  return {
    async start() {
      const r = await TestReceiver.start();
      started.push(r);
      return r;
    },
    async close() {
      await Promise.all(started.map((r) => r.close()));
    },
  };
}
