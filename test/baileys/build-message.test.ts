import fs from 'node:fs';
import type { WAMediaUploadFunction } from 'baileys';
import { describe, expect, it } from 'vitest';
import { buildMessage, messageContent, messageFromLog, toJid } from '../../src/whatsapp/baileys/build-message.js';
import type { OutgoingMessage } from '../../src/whatsapp/driver.js';

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082', 'hex');
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n');

function outgoing(extra: Partial<OutgoingMessage>): OutgoingMessage {
  return {
    id: 'msg_1',
    accountId: 'acc_1',
    recipient: '12125551234',
    kind: 'text',
    text: 'Hello',
    filename: null,
    waMessageId: '3EB0A1B2C3D4E5F60718',
    createdAt: Date.UTC(2026, 10, 25, 10, 0, 0),
    ...extra,
  };
}

/** Records what Baileys uploads: the encrypted file it wrote, and the media type. */
function recordingUpload() {
  const uploads: Array<{ mediaType: string; size: number }> = [];
  const upload: WAMediaUploadFunction = async (encFilePath, opts) => {
    uploads.push({ mediaType: opts.mediaType, size: fs.statSync(encFilePath).size });
    return { mediaUrl: `https://mmg.example.test/${opts.mediaType}/x.enc`, directPath: `/v/t62/${opts.mediaType}/x.enc` };
  };
  return { upload, uploads };
}

const USER = '15550000001:1@s.whatsapp.net';

describe('message building through Baileys generateWAMessage', () => {
  it('turns phone digits into a user jid and keeps group ids', () => {
    expect(toJid('12125551234')).toBe('12125551234@s.whatsapp.net');
    expect(toJid('120363012345678901@g.us')).toBe('120363012345678901@g.us');
  });

  it('builds a text message under our message id, with no upload', async () => {
    const { upload, uploads } = recordingUpload();
    const msg = await buildMessage('12125551234@s.whatsapp.net', outgoing({ text: 'Hi there https://example.com' }), { userJid: USER, upload });
    expect(msg.key.id).toBe('3EB0A1B2C3D4E5F60718');
    expect(msg.key.remoteJid).toBe('12125551234@s.whatsapp.net');
    expect(msg.key.fromMe).toBe(true);
    const text = msg.message?.conversation ?? msg.message?.extendedTextMessage?.text;
    expect(text).toBe('Hi there https://example.com');
    // no link preview was fetched: nothing but the text
    expect(msg.message?.extendedTextMessage?.matchedText ?? null).toBeNull();
    expect(uploads).toEqual([]);
  });

  it('builds an image with its caption from our bytes, uploading through the injected function', async () => {
    const { upload, uploads } = recordingUpload();
    const message = outgoing({ kind: 'image', text: 'The chart', media: { bytes: PNG, mimetype: 'image/png' } });
    const msg = await buildMessage('12125551234@s.whatsapp.net', message, { userJid: USER, upload });
    expect(msg.key.id).toBe(message.waMessageId);
    const image = msg.message?.imageMessage;
    expect(image?.caption).toBe('The chart');
    expect(image?.mimetype).toBe('image/png');
    expect(image?.url).toBe('https://mmg.example.test/image/x.enc');
    expect(image?.directPath).toBe('/v/t62/image/x.enc');
    expect(Number(image?.fileLength)).toBe(PNG.length);
    expect(image?.mediaKey?.length).toBe(32);
    expect(uploads).toHaveLength(1);
    expect(uploads[0]!.mediaType).toBe('image');
  });

  it('builds a PDF with its file name and mimetype', async () => {
    const { upload, uploads } = recordingUpload();
    const message = outgoing({ kind: 'document', text: null, filename: 'invoice-42.pdf', media: { bytes: PDF, mimetype: 'application/pdf' } });
    const msg = await buildMessage('120363012345678901@g.us', message, { userJid: USER, upload });
    expect(msg.key.id).toBe(message.waMessageId);
    expect(msg.key.remoteJid).toBe('120363012345678901@g.us');
    const doc = msg.message?.documentMessage;
    expect(doc?.fileName).toBe('invoice-42.pdf');
    expect(doc?.mimetype).toBe('application/pdf');
    expect(Number(doc?.fileLength)).toBe(PDF.length);
    expect(uploads.map((u) => u.mediaType)).toEqual(['document']);
  });

  it('builds a PDF with a caption, and falls back to the fetched file name', async () => {
    const { upload } = recordingUpload();
    const message = outgoing({ kind: 'document', text: 'Your invoice', filename: null, media: { bytes: PDF, mimetype: 'application/pdf', fileName: 'from-url.pdf' } });
    const msg = await buildMessage('12125551234@s.whatsapp.net', message, { userJid: USER, upload });
    const doc = msg.message?.documentMessage ?? msg.message?.documentWithCaptionMessage?.message?.documentMessage;
    expect(doc?.fileName).toBe('from-url.pdf');
    expect(doc?.caption).toBe('Your invoice');
  });

  it('never hands Baileys a URL: media must already be bytes', () => {
    expect(() => messageContent(outgoing({ kind: 'image', media: undefined }))).toThrow(/not downloaded/);
    const content = messageContent(outgoing({ kind: 'image', media: { bytes: PNG, mimetype: 'image/png' } }));
    expect(Buffer.isBuffer((content as { image: Buffer }).image)).toBe(true);
  });

  it('answers retry requests from the message log', () => {
    expect(messageFromLog({ kind: 'text', text: 'Hello', filename: null })).toEqual({ conversation: 'Hello' });
    expect(messageFromLog({ kind: 'document', text: 'Invoice', filename: 'a.pdf' }).conversation).toContain('a.pdf');
    expect(messageFromLog({ kind: 'image', text: null, filename: null }).conversation).toMatch(/Image/);
  });
});
