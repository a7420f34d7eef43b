/**
 * How long an API key's account, as read from the database, answers for it. Another process's
 * revocation (the CLI, another server on the same PostgreSQL) is seen at most this long after it
 * committed, plus one lookup: within the second issue 20 allows. This process's own changes to
 * accounts and keys are seen at once (the store's accountsVersion).
 */
export const KEY_CACHE_MS = 500;
const MAX_KEYS = 10_000;

interface Entry<R> {
  row: R;
  until: number;
  version: number;
}

/**
 * Authentication results by key hash, so that a busy key costs one lookup per KEY_CACHE_MS instead
 * of one per request (two, with the early check of a body's credentials). Unknown keys are not
 * kept: each costs its lookup, as before.
 */
export class KeyCache<R> {
  private readonly entries = new Map<string, Entry<R>>();
  private readonly inFlight = new Map<string, { promise: Promise<R | undefined>; version: number }>();

  constructor(
    private readonly version: () => number,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  async get(keyHash: string, load: () => Promise<R | undefined>): Promise<R | undefined> {
    const hit = this.entries.get(keyHash);
    if (hit && hit.until > this.clock() && hit.version === this.version()) return hit.row;
    // Concurrent requests of one key share a lookup that started after this process's last change.
    const version = this.version();
    const pending = this.inFlight.get(keyHash);
    if (pending && pending.version === version) return pending.promise;
    const promise = this.load(keyHash, load, version);
    const entry = { promise, version };
    this.inFlight.set(keyHash, entry);
    void promise.finally(() => {
      if (this.inFlight.get(keyHash) === entry) this.inFlight.delete(keyHash);
    }).catch(() => undefined);
    return promise;
  }

  private async load(keyHash: string, load: () => Promise<R | undefined>, version: number): Promise<R | undefined> {
    const started = this.clock();
    const row = await load();
    if (row === undefined) {
      this.entries.delete(keyHash);
      return row;
    }
    if (this.entries.size >= MAX_KEYS) this.entries.clear();
    // Timed from before the read: the answer is never older than KEY_CACHE_MS.
    this.entries.set(keyHash, { row, until: started + KEY_CACHE_MS, version });
    return row;
  }
}
