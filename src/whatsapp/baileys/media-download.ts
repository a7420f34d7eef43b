import { downloadMediaMessage, type WAMessage } from 'baileys';
import type { SocketLike } from './socket-factory.js';

/** What WhatsApp's media host answers for a copy it no longer has. */
const EXPIRED = new Set([404, 410]);

function httpStatusOf(error: unknown): number | null {
  const e = error as { status?: unknown; output?: { statusCode?: unknown } } | null;
  const status = typeof e?.status === 'number' ? e.status : e?.output?.statusCode;
  return typeof status === 'number' ? status : null;
}

/**
 * A received file, downloaded and decrypted. When WhatsApp's copy has expired (404/410), the
 * sender's phone is asked to upload it again and the new copy is downloaded. Baileys' own
 * retry in `downloadMediaMessage` looks for `error.status`, which its HTTP errors (Boom, with
 * `output.statusCode`) do not have, so it never asks; and the new path it is told is joined to
 * the media host of the socket's last `media_conn`, which a socket that never uploaded has not
 * fetched (it would fall back to WhatsApp's public host): the media connection is fetched first.
 */
export async function downloadReceivedFile(socket: SocketLike, msg: WAMessage): Promise<Buffer> {
  try {
    return await downloadMediaMessage(msg, 'buffer', {});
  } catch (error) {
    const status = httpStatusOf(error);
    if (status === null || !EXPIRED.has(status) || !socket.updateMediaMessage) throw error;
    await socket.refreshMediaConn?.();
    const renewed = await socket.updateMediaMessage(msg);
    return downloadMediaMessage(renewed, 'buffer', {});
  }
}
