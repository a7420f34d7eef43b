import { createDecipheriv, createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { getMediaKeys, type MediaType } from 'baileys';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');

/**
 * The test CA certificate of the media host (self-signed for 127.0.0.1). Baileys uploads media
 * over HTTPS only, so a gateway under test trusts it through NODE_EXTRA_CA_CERTS.
 */
export const MEDIA_HOST_CA = path.join(FIXTURES, 'media-host.crt');

/**
 * WhatsApp's media upload host (`mmg.whatsapp.net`) on loopback: takes the encrypted upload
 * Baileys posts to `/mms/<type>/<encSha256>` and answers its URL and direct path.
 */
export class MediaHost {
  private readonly server = https.createServer({ cert: readFileSync(MEDIA_HOST_CA), key: readFileSync(path.join(FIXTURES, 'media-host.key')) }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'https://127.0.0.1');
      if (req.method === 'POST' && url.pathname.startsWith('/mms/')) {
        const directPath = `/v/t62.7118-24/${randomUUID()}.enc`;
        this.uploads.set(directPath, Buffer.concat(chunks));
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ url: `https://${this.hostname}${directPath}`, direct_path: directPath }));
        return;
      }
      const stored = req.method === 'GET' ? this.uploads.get(url.pathname) : undefined;
      if (stored) res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(stored);
      else res.writeHead(404).end();
    });
  });
  private readonly uploads = new Map<string, Buffer>();

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  /** `127.0.0.1:port`, as `media_conn` hands it to Baileys. */
  get hostname(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** A phone's upload (already encrypted, MAC appended): answers its direct path. */
  host(encrypted: Buffer): string {
    const directPath = `/v/t62.7118-24/${randomUUID()}.enc`;
    this.uploads.set(directPath, encrypted);
    return directPath;
  }

  /** WhatsApp's copy expired: the path answers 404 from now on. */
  expire(directPath: string): void {
    this.uploads.delete(directPath);
  }

  get uploadCount(): number {
    return this.uploads.size;
  }

  /**
   * The plaintext of an uploaded file, as a recipient's phone would open it: the MAC checked,
   * then AES-256-CBC with the keys derived from the message's `mediaKey`.
   */
  async open(directPath: string, mediaKey: Uint8Array, type: MediaType): Promise<Buffer> {
    const stored = this.uploads.get(directPath);
    if (!stored) throw new Error(`nothing uploaded at ${directPath}`);
    const { iv, cipherKey, macKey } = await getMediaKeys(Buffer.from(mediaKey), type);
    const body = stored.subarray(0, -10);
    if (!iv || !cipherKey || !macKey) throw new Error('no media keys');
    const mac = createHmac('sha256', macKey).update(iv).update(body).digest().subarray(0, 10);
    if (!mac.equals(stored.subarray(-10))) throw new Error('media MAC mismatch');
    const decipher = createDecipheriv('aes-256-cbc', cipherKey, iv);
    return Buffer.concat([decipher.update(body), decipher.final()]);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
