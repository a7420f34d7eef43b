const OPUS_RATE = 48_000;

/**
 * The length of an OGG/Opus stream in whole seconds, from the granule position of its last page
 * (Opus always counts at 48 kHz), which is what WhatsApp shows on a voice note. Undefined when the
 * bytes do not say.
 */
export function oggOpusSeconds(bytes: Buffer): number | undefined {
  const last = bytes.lastIndexOf('OggS', bytes.length - 27, 'latin1');
  if (last < 0 || last + 14 > bytes.length) return undefined;
  const granule = bytes.readBigUInt64LE(last + 6);
  if (granule <= 0n || granule === 0xffffffffffffffffn) return undefined;
  return Math.max(1, Math.round(Number(granule) / OPUS_RATE));
}
