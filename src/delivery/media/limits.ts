const MB = 1024 * 1024;

/** SPEC §7 defaults; configuration may override them. */
export const DEFAULT_MEDIA_LIMITS = {
  imageMaxBytes: 16 * MB,
  documentMaxBytes: 100 * MB,
  timeoutMs: 60_000,
  maxRedirects: 5,
} as const;
