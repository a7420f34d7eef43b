import fs from 'node:fs/promises';

/**
 * Makes SQLite commits durable without stalling the event loop. The connection commits with
 * synchronous=NORMAL (its write() calls reach the OS, not the disk); before anyone is told about a
 * commit, one fsync of the WAL file, on libuv's thread pool, puts it on disk — the guarantee of
 * synchronous=FULL. Commits that land while an fsync runs share the next one (group commit).
 */
export class WalFlusher {
  private handle: fs.FileHandle | undefined;
  private running: Promise<void> | undefined;
  private next: Promise<void> | undefined;

  constructor(private readonly walPath: string) {}

  /** Resolves once everything committed before this call is on disk. */
  flush(): Promise<void> {
    if (!this.running) {
      this.running = this.sync().finally(() => (this.running = undefined));
      return this.running;
    }
    // The running fsync may have started before this commit's write: wait for a fresh one.
    this.next ??= this.running.then(
      () => {
        this.next = undefined;
        return this.flush();
      },
      () => {
        this.next = undefined;
        return this.flush();
      },
    );
    return this.next;
  }

  private async sync(): Promise<void> {
    try {
      this.handle ??= await fs.open(this.walPath, 'r+');
      await this.handle.sync();
    } catch (error) {
      const stale = this.handle;
      this.handle = undefined;
      await stale?.close().catch(() => undefined);
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.running?.catch(() => undefined);
    await this.handle?.close();
    this.handle = undefined;
  }
}
