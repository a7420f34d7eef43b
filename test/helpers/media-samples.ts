import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Smallest files that file-type recognises by their bytes, one per kind the sends accept. */

export function sampleMp4(seconds?: number): Buffer {
  const ftyp = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypmp42', 'latin1'), Buffer.alloc(4), Buffer.from('mp42isom', 'latin1')]);
  const mdat = Buffer.concat([Buffer.from([0, 0, 0, 0x10]), Buffer.from('mdat', 'latin1'), Buffer.from('videobytes', 'latin1').subarray(0, 8)]);
  return seconds === undefined ? Buffer.concat([ftyp, mdat]) : Buffer.concat([ftyp, moovLasting(seconds), mdat]);
}

/** A movie header (`moov/mvhd`, version 0) saying `seconds` at a timescale of 600, as cameras write it. */
function moovLasting(seconds: number): Buffer {
  const mvhd = Buffer.alloc(8 + 100);
  mvhd.writeUInt32BE(mvhd.length, 0);
  mvhd.write('mvhd', 4, 'latin1');
  mvhd.writeUInt32BE(600, 8 + 12); // timescale
  mvhd.writeUInt32BE(Math.round(seconds * 600), 8 + 16); // duration
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + mvhd.length, 0);
  header.write('moov', 4, 'latin1');
  return Buffer.concat([header, mvhd]);
}

function oggPage(granule: bigint, sequence: number, payload: Buffer, headerType: number): Buffer {
  const header = Buffer.alloc(27);
  header.write('OggS', 0, 'latin1');
  header[4] = 0;
  header[5] = headerType;
  header.writeBigUInt64LE(granule, 6);
  header.writeUInt32LE(0x4d41, 14); // stream serial
  header.writeUInt32LE(sequence, 18);
  header.writeUInt32LE(0, 22); // CRC (not checked by the sniffers)
  header[26] = 1;
  return Buffer.concat([header, Buffer.from([payload.length]), payload]);
}

/** An OGG/Opus stream whose last page says `seconds` of 48 kHz audio. */
export function sampleOpus(seconds = 3): Buffer {
  const head = Buffer.concat([Buffer.from('OpusHead', 'latin1'), Buffer.from([1, 1, 0x38, 0x01, 0x80, 0xbb, 0, 0, 0, 0, 0])]);
  const tags = Buffer.concat([Buffer.from('OpusTags', 'latin1'), Buffer.alloc(8)]);
  return Buffer.concat([oggPage(0n, 0, head, 2), oggPage(0n, 1, tags, 0), oggPage(BigInt(seconds * 48_000), 2, Buffer.alloc(20, 0xfc), 4)]);
}

/**
 * An MP3 of at least `seconds` (silent frames: MPEG-1 layer III, 128 kbit/s, 44.1 kHz, 417 bytes and
 * 1,152 samples each) after an empty ID3v2 tag; with no seconds, one frame's header only.
 */
export function sampleMp3(seconds = 0): Buffer {
  const tag = Buffer.from([0x49, 0x44, 0x33, 4, 0, 0, 0, 0, 0, 0]);
  if (seconds === 0) return Buffer.concat([tag, Buffer.from([0xff, 0xfb, 0x90, 0x64]), Buffer.alloc(64)]);
  const frame = Buffer.alloc(417);
  frame.set([0xff, 0xfb, 0x90, 0x64]);
  return Buffer.concat([tag, ...Array.from({ length: Math.ceil((seconds * 44_100) / 1152) }, () => frame)]);
}

/** A WAV of `seconds` of silence: PCM, 8 kHz, mono, 8 bits. */
export function sampleWav(seconds: number): Buffer {
  const data = Buffer.alloc(8000 * seconds, 0x80);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8, 'latin1');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(8000, 24);
  header.writeUInt32LE(8000, 28);
  header.writeUInt16LE(1, 32);
  header.writeUInt16LE(8, 34);
  header.write('data', 36, 'latin1');
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

export function sampleWebp(): Buffer {
  const vp8 = Buffer.concat([Buffer.from('VP8 ', 'latin1'), Buffer.from([10, 0, 0, 0]), Buffer.alloc(10)]);
  const size = Buffer.alloc(4);
  size.writeUInt32LE(4 + vp8.length);
  return Buffer.concat([Buffer.from('RIFF', 'latin1'), size, Buffer.from('WEBP', 'latin1'), vp8]);
}

/** A loopback server answering each path with its bytes (`/name`), under a deliberately wrong Content-Type. */
export async function serveFiles(files: Record<string, Buffer>): Promise<{ url(name: string): string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const body = files[(req.url ?? '/').slice(1)];
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (name) => `http://127.0.0.1:${port}/${name}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
