import { Worker } from 'node:worker_threads';
import { AppError } from './errors.js';

export interface PasswordHashingLimits {
  /** Hashes computed at once (each one keeps a core busy for ~80 ms and holds 32 MB). */
  readonly concurrency: number;
  /** Hashes allowed to wait for a free worker; beyond that a request is refused at once. */
  readonly queue: number;
}

export const DEFAULT_HASHING_LIMITS: PasswordHashingLimits = Object.freeze({ concurrency: 2, queue: 8 });

/**
 * Why worker threads of our own, running the synchronous scrypt: the asynchronous `crypto.scrypt`
 * runs on libuv's thread pool (4 threads), the same pool as the fsync that makes every SQLite
 * commit durable (src/store/wal-flusher.ts). A few concurrent hashes used to fill that pool, and
 * every send then waited behind them. Here a hash never touches libuv's pool, so the fsync always
 * finds a free thread; and each worker lowers its own thread's CPU priority (nice 19, a per-thread
 * attribute on Linux) so that the event loop and the database win the cores during a flood.
 * Eval'd CommonJS, so that the same code runs from src/ (tests) and dist/ (the server).
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { scryptSync } = require('node:crypto');
try { require('node:os').setPriority(0, 19); } catch {}
parentPort.on('message', ({ password, salt, length, options }) => {
  try {
    const key = scryptSync(password, salt, length, options);
    parentPort.postMessage({ key });
  } catch (error) {
    parentPort.postMessage({ error: String((error && error.message) || error) });
  }
});
`;

export interface ScryptTask {
  password: string;
  salt: Uint8Array;
  length: number;
  options: { N: number; r: number; p: number; maxmem: number };
}

interface Pending {
  task: ScryptTask;
  resolve(key: Buffer): void;
  reject(error: Error): void;
}

/** Room for one hash, taken at once; the hash may follow later (after awaits), or the room be given back. */
export interface HashingClaim {
  /** Runs the hash in the room claimed (once). */
  scrypt(task: ScryptTask): Promise<Buffer>;
  /** Gives the room back unused (does nothing once the hash has started). */
  release(): void;
}

/**
 * A bounded pool for password hashing: at most `concurrency` hashes at once, at most `queue`
 * waiting; anything more is refused with 503 and Retry-After (SPEC §4) instead of piling up.
 * Room is counted from the moment it is claimed, so that of many requests arriving at once only
 * as many as there is room for go on to the work that comes before their hash.
 */
export class PasswordHashingPool {
  private readonly idle: Worker[] = [];
  private busy = 0;
  private claimed = 0;
  private readonly waiting: Pending[] = [];

  constructor(private limits: PasswordHashingLimits = DEFAULT_HASHING_LIMITS) {}

  setLimits(limits: PasswordHashingLimits): void {
    this.limits = Object.freeze({ ...limits });
  }

  /** Claims room for one hash, or throws the 503 at once when there is none (nothing else done). */
  claim(): HashingClaim {
    if (this.busy + this.waiting.length + this.claimed >= this.limits.concurrency + this.limits.queue) {
      throw new AppError('service_unavailable', 'The server is busy checking other passwords. Try again in a moment.', { retryAfterSeconds: 1 });
    }
    this.claimed++;
    let open = true;
    const release = () => {
      if (!open) return false;
      open = false;
      this.claimed--;
      return true;
    };
    return {
      release,
      scrypt: (task) => {
        if (!release()) return Promise.reject(new Error('this hashing claim was already used'));
        return new Promise<Buffer>((resolve, reject) => {
          const pending = { task, resolve, reject };
          if (this.busy < this.limits.concurrency) this.start(pending);
          else this.waiting.push(pending);
        });
      },
    };
  }

  /** Claims room and hashes at once (503 when there is no room). */
  scrypt(task: ScryptTask): Promise<Buffer> {
    try {
      return this.claim().scrypt(task);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private start(pending: Pending): void {
    this.busy++;
    const worker = this.idle.pop() ?? new Worker(WORKER_SOURCE, { eval: true });
    // Held while it works (a CLI must not exit under a hash), not while it idles.
    worker.ref();
    const done = (outcome: { key?: Uint8Array; error?: string }) => {
      worker.off('error', failed);
      worker.off('exit', exited);
      this.busy--;
      worker.unref();
      this.idle.push(worker);
      if (outcome.key) pending.resolve(Buffer.from(outcome.key));
      else pending.reject(new Error(outcome.error ?? 'password hashing failed'));
      this.next();
    };
    const failed = (error: Error) => {
      worker.off('message', done);
      worker.off('exit', exited);
      this.busy--;
      void worker.terminate();
      pending.reject(error);
      this.next();
    };
    const exited = () => failed(new Error('the password hashing worker stopped'));
    worker.once('message', done);
    worker.once('error', failed);
    worker.once('exit', exited);
    worker.postMessage(pending.task);
  }

  private next(): void {
    const pending = this.waiting.shift();
    if (pending) this.start(pending);
  }
}

/** One pool per process: the cores it protects are the process's. */
export const passwordHashingPool = new PasswordHashingPool();
