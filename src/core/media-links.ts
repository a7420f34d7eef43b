import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signed, expiring links to inbound media (SPEC §11): `<base>/media/<id>?expires=<unix s>&sig=<hex>`,
 * the signature an HMAC-SHA256 of "media:<id>:<expires>" under a key derived from the server's
 * secret. Anyone holding the link may fetch the file until it expires; nobody can forge another.
 */
export class MediaLinks {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = createHmac('sha256', secret).update('messageapi inbound media links v1').digest();
  }

  private signature(mediaId: string, expires: number): string {
    return createHmac('sha256', this.key).update(`media:${mediaId}:${expires}`).digest('hex');
  }

  /** The absolute link (`base` from PUBLIC_URL, or the server's own address), valid until `expiresAt` (ms). */
  url(base: string, mediaId: string, expiresAt: number): string {
    const expires = Math.floor(expiresAt / 1000);
    return `${base}/media/${encodeURIComponent(mediaId)}?expires=${expires}&sig=${this.signature(mediaId, expires)}`;
  }

  /** 'ok', 'expired' (a genuine link past its time) or 'invalid' (not a link we signed). */
  check(mediaId: string, expires: string | undefined, sig: string | undefined, now: number): 'ok' | 'expired' | 'invalid' {
    if (expires === undefined || sig === undefined || !/^\d{1,12}$/.test(expires) || !/^[0-9a-f]{64}$/.test(sig)) return 'invalid';
    const expected = Buffer.from(this.signature(mediaId, Number(expires)), 'hex');
    if (!timingSafeEqual(expected, Buffer.from(sig, 'hex'))) return 'invalid';
    return Number(expires) * 1000 <= now ? 'expired' : 'ok';
  }
}
