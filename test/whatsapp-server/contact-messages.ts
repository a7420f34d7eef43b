import { createCipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { aesEncryptGCM, getMediaKeys, hkdf, hmacSign, jidNormalizedUser, proto, type BinaryNode, type MediaType } from 'baileys';
import { childNode } from './linking.js';
import type { Connection } from './connection.js';
import type { MediaHost } from './media-host.js';

const SERVER = 's.whatsapp.net';
const now = () => String(Math.floor(Date.now() / 1000));

/** The fields WhatsApp's apps put in a media message once the file is uploaded. */
export interface UploadedMedia {
  url: string;
  directPath: string;
  mediaKey: Uint8Array;
  fileSha256: Uint8Array;
  fileEncSha256: Uint8Array;
  fileLength: number;
  mediaKeyTimestamp: number;
}

interface SentMedia {
  bytes: Buffer;
  type: MediaType;
  mediaKey: Buffer;
  directPath: string;
}

/**
 * What a contact's phone does beyond texts: uploads a file encrypted to the media host (as
 * WhatsApp's apps do: AES-256-CBC under keys from a random media key, a 10-byte HMAC appended),
 * encrypts a vote on a poll it received, and answers a companion's request to upload an expired
 * file again (the `server-error` receipt → a `mediaretry` notification with the new path).
 */
export class ContactMessages {
  /** Files the contacts sent, by message id: what a re-upload request is answered from. */
  private readonly sent = new Map<string, SentMedia>();
  /** Re-upload requests answered, by message id. */
  readonly reuploads: string[] = [];

  constructor(private readonly media: MediaHost) {}

  /** Encrypts and uploads `bytes` as a phone does for a file of `type`. */
  async upload(bytes: Buffer, type: MediaType): Promise<UploadedMedia> {
    const mediaKey = randomBytes(32);
    const encrypted = await encryptFile(bytes, mediaKey, type);
    const directPath = this.media.host(encrypted);
    return {
      url: `https://${this.media.hostname}${directPath}`,
      directPath,
      mediaKey,
      fileSha256: createHash('sha256').update(bytes).digest(),
      fileEncSha256: createHash('sha256').update(encrypted).digest(),
      fileLength: bytes.length,
      mediaKeyTimestamp: Math.floor(Date.now() / 1000),
    };
  }

  /** Remembers the file of message `id`, so the phone can upload it again when asked. */
  remember(id: string, bytes: Buffer, type: MediaType, uploaded: UploadedMedia): void {
    this.sent.set(id, { bytes, type, mediaKey: Buffer.from(uploaded.mediaKey), directPath: uploaded.directPath });
  }

  /** WhatsApp's copy of the file of message `id` expired: its path answers 404. */
  expire(id: string): void {
    const file = this.sent.get(id);
    if (!file) throw new Error(`no file was sent as message ${id}`);
    this.media.expire(file.directPath);
  }

  /**
   * A companion asked (`receipt` type `server-error`) for the file of a message it could not
   * download: the phone uploads it again and the server tells the companion where, encrypted with
   * the retry key derived from the file's media key, as `notification` type `mediaretry`.
   */
  async answerMediaRetry(connection: Connection, receipt: BinaryNode): Promise<void> {
    const id = receipt.attrs.id!;
    await connection.send({ tag: 'ack', attrs: { class: 'receipt', id, from: receipt.attrs.to ?? SERVER, type: 'server-error' } });
    const rmr = childNode(receipt, 'rmr');
    const file = this.sent.get(id);
    const rmrAttrs: Record<string, string> = { jid: rmr?.attrs.jid ?? '', from_me: rmr?.attrs.from_me ?? 'false', ...(rmr?.attrs.participant ? { participant: rmr.attrs.participant } : {}) };
    let content: BinaryNode[];
    if (!file) {
      content = [{ tag: 'rmr', attrs: rmrAttrs }, { tag: 'error', attrs: { code: String(proto.MediaRetryNotification.ResultType.NOT_FOUND) } }];
    } else {
      const encrypted = await encryptFile(file.bytes, file.mediaKey, file.type);
      file.directPath = this.media.host(encrypted);
      this.reuploads.push(id);
      const notification = proto.MediaRetryNotification.encode({ stanzaId: id, directPath: file.directPath, result: proto.MediaRetryNotification.ResultType.SUCCESS }).finish();
      const iv = randomBytes(12);
      const retryKey = hkdf(file.mediaKey, 32, { info: 'WhatsApp Media Retry Notification' });
      const ciphertext = aesEncryptGCM(notification, retryKey, iv, Buffer.from(id));
      content = [
        { tag: 'encrypt', attrs: {}, content: [{ tag: 'enc_p', attrs: {}, content: ciphertext }, { tag: 'enc_iv', attrs: {}, content: iv }] },
        { tag: 'rmr', attrs: rmrAttrs },
      ];
    }
    await connection.send({ tag: 'notification', attrs: { from: SERVER, type: 'mediaretry', id, t: now() }, content });
  }
}

async function encryptFile(bytes: Buffer, mediaKey: Buffer, type: MediaType): Promise<Buffer> {
  const { iv, cipherKey, macKey } = await getMediaKeys(mediaKey, type);
  const cipher = createCipheriv('aes-256-cbc', cipherKey, iv);
  const body = Buffer.concat([cipher.update(bytes), cipher.final()]);
  const mac = createHmac('sha256', macKey!).update(iv).update(body).digest().subarray(0, 10);
  return Buffer.concat([body, mac]);
}

/**
 * A vote as WhatsApp's apps encrypt it: the chosen options' SHA-256 in a PollVoteMessage, under
 * AES-GCM with a key derived from the poll's secret, its id, its creator and the voter.
 */
export function encryptPollVote(input: { options: string[]; pollMsgId: string; pollCreatorJid: string; voterJid: string; pollEncKey: Uint8Array }): proto.Message.IPollEncValue {
  const creator = jidNormalizedUser(input.pollCreatorJid);
  const voter = jidNormalizedUser(input.voterJid);
  const sign = Buffer.concat([Buffer.from(input.pollMsgId), Buffer.from(creator), Buffer.from(voter), Buffer.from('Poll Vote'), new Uint8Array([1])]);
  const key0 = hmacSign(Buffer.from(input.pollEncKey), new Uint8Array(32), 'sha256');
  const key = hmacSign(sign, key0, 'sha256');
  const vote = proto.Message.PollVoteMessage.encode({ selectedOptions: input.options.map((o) => createHash('sha256').update(o).digest()) }).finish();
  const encIv = randomBytes(12);
  return { encPayload: aesEncryptGCM(vote, key, encIv, Buffer.from(`${input.pollMsgId}\u0000${voter}`)), encIv };
}
