import fs from 'node:fs/promises';
import path from 'node:path';
import type { Store } from './store.js';
import { PRIVATE_FILE_MODE, PRIVATE_FOLDER_MODE } from './private-files.js';

export type MediaStorage = 'file' | 'database';

/**
 * Where inbound media bytes live. On SQLite (one process) a file under DATA_DIR/media, written and
 * flushed before the row that names it commits. On PostgreSQL the bytes go into the row itself
 * (`inbound_media.data`): several processes may share the database, and the database is the one
 * place every one of them reaches, with no shared disk or object store to configure.
 */
export class MediaBytes {
  readonly storage: MediaStorage;
  private readonly folder: string;

  constructor(store: Store, dataDir: string) {
    this.storage = store.dialect === 'postgres' ? 'database' : 'file';
    this.folder = path.join(dataDir, 'media');
  }

  private file(accountId: string, mediaId: string): string {
    return path.join(this.folder, accountId, mediaId);
  }

  /** Before the row's transaction: writes the file (flushed) when stored as files; the value for `data` otherwise. */
  async prepare(accountId: string, mediaId: string, bytes: Buffer): Promise<Buffer | null> {
    if (this.storage === 'database') return bytes;
    const folder = path.join(this.folder, accountId);
    await fs.mkdir(folder, { recursive: true, mode: PRIVATE_FOLDER_MODE });
    const target = this.file(accountId, mediaId);
    const handle = await fs.open(target, 'w', PRIVATE_FILE_MODE);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    const dir = await fs.open(folder, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
    return null;
  }

  /** The bytes of a stored media row, or null when they are gone. */
  async read(row: { id: string; account_id: string; storage: string; data: Buffer | null }): Promise<Buffer | null> {
    if (row.storage === 'database') return row.data === null ? null : Buffer.from(row.data);
    try {
      return await fs.readFile(this.file(row.account_id, row.id));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  /** After the rows were deleted: their files go too (database bytes went with the rows). */
  async removeFiles(rows: Array<{ id: string; account_id: string; storage: string }>): Promise<void> {
    for (const row of rows) {
      if (row.storage !== 'file') continue;
      await fs.rm(this.file(row.account_id, row.id), { force: true });
    }
  }
}
