import { AppError } from './errors.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;

/** Cursors are opaque to clients: a base64url wrapper around the last row's sequence number. */
export function encodeCursor(seq: number): string {
  return Buffer.from(`s:${seq}`).toString('base64url');
}

export function decodeCursor(cursor: string): number {
  const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^s:(\d{1,15})$/.exec(decoded);
  if (!match) throw new AppError('invalid_parameter', 'Invalid parameter: cursor is not one this server gave out.');
  return Number(match[1]);
}

/** Splits `limit + 1` fetched rows into the page and the cursor after it (null on the last page). */
export function pageOf<T extends { seq: number }>(rows: T[], limit: number): { page: T[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  return { page, nextCursor: rows.length > limit ? encodeCursor(page[page.length - 1]!.seq) : null };
}
