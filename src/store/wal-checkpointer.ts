import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

// Runs in a worker thread with a connection of its own: a PASSIVE checkpoint never blocks the
// writer or the readers, and its copying and fsyncs happen off the event loop. The connection and
// its one statement live as long as the worker: no better-sqlite3 object may become garbage (see
// sqlite-connection.ts), so pragmas go through exec and the checkpoint is prepared once.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file);
db.exec('PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL');
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
parentPort.on('message', () => {
  try { checkpoint.all(); parentPort.postMessage({ ok: true }); }
  catch (error) { parentPort.postMessage({ ok: false, error: String(error && error.message || error) }); }
});
`;

/**
 * Moves SQLite's WAL checkpoints off the main thread. The write connection keeps a high
 * auto-checkpoint threshold only as a backstop, should this worker ever stop.
 */
export class WalCheckpointer {
  private readonly worker: Worker;
  private readonly timer: NodeJS.Timeout;
  private inFlight = false;

  constructor(file: string, intervalMs = 250, onError: (message: string) => void = () => undefined) {
    const module = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, module } });
    this.worker.unref();
    this.worker.on('message', (result: { ok: boolean; error?: string }) => {
      this.inFlight = false;
      if (!result.ok) onError(result.error ?? 'checkpoint failed');
    });
    this.worker.on('error', (error) => onError(error.message));
    this.timer = setInterval(() => {
      if (this.inFlight) return;
      this.inFlight = true;
      this.worker.postMessage('checkpoint');
    }, intervalMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.worker.terminate();
  }
}
