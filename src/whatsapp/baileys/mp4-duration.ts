/** The boxes of an ISO BMFF (MP4) region: type, and where each box's payload starts and ends. */
function* boxes(bytes: Buffer, start: number, end: number): Generator<{ type: string; body: number; end: number }> {
  let at = start;
  while (at + 8 <= end) {
    let size = bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    let body = at + 8;
    if (size === 1) {
      if (at + 16 > end) return;
      size = Number(bytes.readBigUInt64BE(at + 8));
      body = at + 16;
    } else if (size === 0) {
      size = end - at;
    }
    if (size < body - at || at + size > end) return;
    yield { type, body, end: at + size };
    at += size;
  }
}

/**
 * The length of an MP4 in whole seconds, from its movie header (`moov/mvhd`: duration over
 * timescale), which is what WhatsApp shows on a video. Undefined when the bytes do not say.
 */
export function mp4Seconds(bytes: Buffer): number | undefined {
  for (const moov of boxes(bytes, 0, bytes.length)) {
    if (moov.type !== 'moov') continue;
    for (const box of boxes(bytes, moov.body, moov.end)) {
      if (box.type !== 'mvhd' || box.end - box.body < 32) continue;
      const version = bytes[box.body]!;
      const timescale = version === 1 ? bytes.readUInt32BE(box.body + 20) : bytes.readUInt32BE(box.body + 12);
      const duration = version === 1 ? Number(bytes.readBigUInt64BE(box.body + 24)) : bytes.readUInt32BE(box.body + 16);
      if (!timescale || !duration || duration === 0xffffffff) return undefined;
      return Math.max(1, Math.round(duration / timescale));
    }
  }
  return undefined;
}
