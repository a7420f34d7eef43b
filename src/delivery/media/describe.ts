const MiB = 1024 * 1024;
const KiB = 1024;

/** "16 MB", "1.5 MB", "200 KB", "900 bytes" (binary units, as the limits are configured). */
export function formatBytes(bytes: number): string {
  if (bytes >= MiB) return `${trimNumber(bytes / MiB)} MB`;
  if (bytes >= KiB) return `${trimNumber(bytes / KiB)} KB`;
  return `${bytes} bytes`;
}

/** "300 ms", "1.5 seconds", "30 seconds". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  return `${trimNumber(s)} second${s === 1 ? '' : 's'}`;
}

function trimNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1).replace(/\.0$/, '');
}

const MAX_SHOWN = 200;

/**
 * The URL as shown in error messages. Query and fragment are dropped because signed
 * download links carry their secrets there, and these messages are stored and returned.
 */
export function displayUrl(url: URL | string): string {
  let shown: string;
  try {
    const u = typeof url === 'string' ? new URL(url.trim()) : url;
    shown = `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    shown = String(url).split(/[?#]/, 1)[0] ?? '';
  }
  return shown.length > MAX_SHOWN ? `${shown.slice(0, MAX_SHOWN)}…` : shown;
}
