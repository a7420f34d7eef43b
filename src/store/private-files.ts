import fs from 'node:fs';

export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_FOLDER_MODE = 0o700;

/** Takes group and other permissions off an existing file or folder; false when it is missing. */
export function tighten(target: string, mode: number): boolean {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  if ((stat.mode & 0o777 & ~mode) !== 0) fs.chmodSync(target, stat.mode & mode);
  return true;
}

/**
 * The SQLite file and its -wal/-shm are owner-only (they hold password hashes, messages, phone
 * numbers): a new database file is created 0600 before SQLite opens it (SQLite gives -wal and -shm
 * the database file's mode), and an existing one made looser is tightened.
 */
export function prepareSqliteFile(file: string): void {
  try {
    fs.closeSync(fs.openSync(file, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY, PRIVATE_FILE_MODE));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  for (const suffix of ['', '-wal', '-shm', '-journal']) tighten(`${file}${suffix}`, PRIVATE_FILE_MODE);
}
