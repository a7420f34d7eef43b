import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { PRIVATE_FILE_MODE, PRIVATE_FOLDER_MODE, tighten } from './store/private-files.js';

/**
 * DATA_DIR holds the SQLite database (password hashes, messages, phone numbers) and the secret
 * key: whoever creates it creates it 0700 (the store, the secret key), and at every start it and
 * the files in it are tightened to 0700/0600 when found looser. A folder or file the process may
 * not chmod (another owner) is left with a warning.
 */
export function secureDataDir(dataDir: string, log: Logger): void {
  if (!fs.existsSync(dataDir)) return;
  const attempt = (target: string, mode: number) => {
    try {
      tighten(target, mode);
    } catch (error) {
      log.warn({ err: error, path: target }, `could not restrict ${target} to mode ${mode.toString(8)}: make it private to the user the server runs as`);
    }
  };
  attempt(dataDir, PRIVATE_FOLDER_MODE);
  for (const entry of fs.readdirSync(dataDir, { withFileTypes: true })) {
    if (entry.isFile()) attempt(path.join(dataDir, entry.name), PRIVATE_FILE_MODE);
  }
}
