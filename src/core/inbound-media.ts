import { AppError } from './errors.js';
import type { InboundDeps } from './inbound-deps.js';

export interface StoredMedia {
  id: string;
  accountId: string;
  mimetype: string;
  size: number;
  sha256: string;
  fileName: string | null;
  bytes: Buffer;
}

/**
 * A received file: the account's own (another account's id answers like an unknown one), or any
 * account's when the caller holds a signed link (`accountId` null). Gone after retention: 404.
 */
export async function readInboundMedia(deps: InboundDeps, id: string, accountId: string | null): Promise<StoredMedia> {
  let q = deps.store.db.selectFrom('inbound_media').selectAll().where('id', '=', id);
  if (accountId !== null) q = q.where('account_id', '=', accountId);
  const row = await q.executeTakeFirst();
  const bytes = row ? await deps.media.read(row) : null;
  if (!row || !bytes) throw new AppError('not_found', `No media with id ${id} in this account (received files are kept ${deps.config.inboundMedia.retentionDays} days).`);
  return { id: row.id, accountId: row.account_id, mimetype: row.mimetype, size: Number(row.size), sha256: row.sha256, fileName: row.file_name, bytes };
}
