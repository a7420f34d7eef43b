/** The file name from a Content-Disposition header (RFC 6266, `filename*` preferred), if any. */
export function fileNameFromDisposition(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const extended = /(?:^|;)\s*filename\*\s*=\s*([\w!#$%&+^`{}~-]*)'[^']*'([^;\s]*)/i.exec(header);
  if (extended) {
    const decoded = decodeExtended(extended[1] ?? '', extended[2] ?? '');
    const name = decoded === undefined ? undefined : sanitizeFileName(decoded);
    if (name) return name;
  }
  const plain = /(?:^|;)\s*filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/i.exec(header);
  if (!plain) return undefined;
  const value = plain[1] !== undefined ? plain[1].replace(/\\(.)/g, '$1') : (plain[2] ?? '');
  return sanitizeFileName(value);
}

/** The last path segment of a URL, percent-decoded, if it is a usable file name. */
export function fileNameFromUrl(url: URL): string | undefined {
  const segment = url.pathname.split('/').pop() ?? '';
  try {
    return sanitizeFileName(decodeURIComponent(segment));
  } catch {
    return sanitizeFileName(segment);
  }
}

function decodeExtended(charset: string, encoded: string): string | undefined {
  const bytes: number[] = [];
  for (let i = 0; i < encoded.length; i++) {
    const ch = encoded[i];
    if (ch === '%' && /^[0-9a-f]{2}$/i.test(encoded.slice(i + 1, i + 3))) {
      bytes.push(parseInt(encoded.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(encoded.charCodeAt(i) & 0xff);
    }
  }
  const cs = charset.toLowerCase();
  if (cs === 'utf-8') return Buffer.from(bytes).toString('utf8');
  if (cs === 'iso-8859-1') return Buffer.from(bytes).toString('latin1');
  return undefined;
}

/** Keeps only the base name, without control characters; rejects empty, "." and "..". */
export function sanitizeFileName(raw: string): string | undefined {
  const base = (raw.split(/[/\\]/).pop() ?? '').replace(/[\u0000-\u001f\u007f]/g, '').trim();
  if (base === '' || base === '.' || base === '..') return undefined;
  return base.length > 255 ? base.slice(0, 255) : base;
}
