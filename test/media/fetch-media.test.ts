import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchMediaWithPolicy } from '../../src/delivery/media/fetch-media.js';
import { fetchMedia, type FetchMediaOptions, type LookupFn, type ResolvedAddress } from '../../src/delivery/media/index.js';
import { expectMediaError, HTML, startServer, tinyPdf, tinyPng, type TestServer } from './fixtures.js';

// Every connection in this file goes to loopback. Addresses outside loopback appear only as
// lookup answers that must be refused before any connection is made.

const PNG = tinyPng();
const PDF = tinyPdf();
// Just enough of each format for its signature to be recognised.
const JPEG = Buffer.from('ffd8ffe000104a46494600010100000100010000', 'hex');
const GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
const WEBP = Buffer.concat([
  Buffer.from('RIFF'),
  Buffer.from([0x1a, 0, 0, 0]),
  Buffer.from('WEBPVP8L'),
  Buffer.from('0d0000002f00000010071011118888fe0700', 'hex'),
]);

const image = (extra: Partial<FetchMediaOptions> = {}): FetchMediaOptions => ({
  kind: 'image',
  allowPrivate: true,
  maxBytes: 16 * 1024 * 1024,
  timeoutMs: 5_000,
  ...extra,
});
const document = (extra: Partial<FetchMediaOptions> = {}): FetchMediaOptions => ({ ...image(extra), kind: 'document', ...extra });

function send(res: ServerResponse, status: number, type: string, body: Buffer, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'content-length': String(body.length), ...headers });
  res.end(body);
}

/** Streams 1 KB every 5 ms without a Content-Length, until the client goes away. */
function endless(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'image/png' });
  res.write(PNG);
  const timer = setInterval(() => res.write(Buffer.alloc(1024)), 5);
  res.on('close', () => clearInterval(timer));
}

const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {
  '/pixel.png': (_q, res) => send(res, 200, 'image/png', PNG),
  '/octet': (_q, res) => send(res, 200, 'application/octet-stream', PNG),
  '/photo.jpg': (_q, res) => send(res, 200, 'image/jpeg', JPEG),
  '/anim.gif': (_q, res) => send(res, 200, 'image/gif', GIF),
  '/pic.webp': (_q, res) => send(res, 200, 'image/webp', WEBP),
  '/invoice.pdf': (_q, res) => send(res, 200, 'application/pdf', PDF),
  '/download': (_q, res) =>
    send(res, 200, 'application/pdf', PDF, { 'content-disposition': `attachment; filename="Invoice 42.pdf"; filename*=UTF-8''Rechnung%20%E2%84%9642.pdf` }),
  '/html-as-png.png': (_q, res) => send(res, 200, 'image/png', HTML),
  '/text-as-pdf.pdf': (_q, res) => send(res, 200, 'application/pdf', Buffer.from('Hello, this is not a PDF at all.')),
  '/png-as-pdf.pdf': (_q, res) => send(res, 200, 'application/pdf', PNG),
  '/pdf-as-png.png': (_q, res) => send(res, 200, 'image/png', PDF),
  '/empty.png': (_q, res) => send(res, 200, 'image/png', Buffer.alloc(0)),
  '/big-declared.png': (_q, res) => {
    // Announces 17 MB and sends nothing: the fetcher must refuse on the header alone.
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': String(17 * 1024 * 1024) });
    res.flushHeaders();
  },
  '/big-chunked.png': (_q, res) => endless(res),
  '/slow-body.png': (_q, res) => {
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': String(PNG.length) });
    res.write(PNG.subarray(0, 8)); // then nothing
  },
  '/slow-headers.png': () => {
    // Never answers.
  },
  '/missing.png': (_q, res) => send(res, 404, 'text/html', HTML),
  '/broken.png': (_q, res) => send(res, 500, 'text/plain', Buffer.from('oops')),
  '/not-modified': (_q, res) => {
    res.writeHead(304);
    res.end();
  },
  '/no-location': (_q, res) => {
    res.writeHead(302);
    res.end();
  },
  '/to-ftp': (_q, res) => redirect(res, 'ftp://127.0.0.1/pixel.png'),
  '/to-credentials': (_q, res) => redirect(res, `http://user:pw@127.0.0.1:${server.port}/pixel.png`),
  '/a/to-pixel-relative': (_q, res) => redirect(res, '../pixel.png', 301),
};

function redirect(res: ServerResponse, location: string, status = 302): void {
  res.writeHead(status, { location });
  res.end();
}

function handler(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  // /hops/N redirects N times, then serves the PNG.
  const hops = /^\/hops\/(\d+)$/.exec(url.pathname);
  if (hops) {
    const n = Number(hops[1]);
    if (n === 0) return send(res, 200, 'image/png', PNG);
    return redirect(res, `/hops/${n - 1}`, [301, 302, 303, 307, 308][n % 5]);
  }
  if (url.pathname === '/redirect') return redirect(res, url.searchParams.get('to') ?? '/');
  const route = routes[url.pathname];
  if (route) return route(req, res);
  send(res, 404, 'text/plain', Buffer.from('no route'));
}

let server: TestServer;
let other: TestServer; // on 127.0.0.2: reached only if a check is bypassed

beforeAll(async () => {
  server = await startServer(handler);
  other = await startServer(handler, '127.0.0.2');
});
afterAll(async () => {
  await server.close();
  await other.close();
});

const at = (path: string): string => `${server.origin}${path}`;

/** A lookup that answers from a table and counts its calls. */
function fakeLookup(answers: (name: string, call: number) => ResolvedAddress[]): LookupFn & { calls: string[] } {
  const calls: string[] = [];
  const fn = async (name: string): Promise<ResolvedAddress[]> => {
    calls.push(name);
    return answers(name, calls.length);
  };
  return Object.assign(fn, { calls });
}

const v4 = (address: string): ResolvedAddress => ({ address, family: 4 });
const v6 = (address: string): ResolvedAddress => ({ address, family: 6 });

describe('fetchMedia accepts real media', () => {
  it('downloads a real PNG and judges it by its bytes', async () => {
    const got = await fetchMedia(at('/pixel.png'), image());
    expect(got.mimetype).toBe('image/png');
    expect(got.bytes.equals(PNG)).toBe(true);
    expect(got.fileName).toBe('pixel.png');
    expect(got.finalUrl).toBe(at('/pixel.png'));
  });

  it('ignores a wrong Content-Type when the bytes are a real image', async () => {
    const got = await fetchMedia(at('/octet'), image());
    expect(got.mimetype).toBe('image/png');
  });

  it.each([
    ['/photo.jpg', 'image/jpeg'],
    ['/anim.gif', 'image/gif'],
    ['/pic.webp', 'image/webp'],
  ])('accepts %s as %s', async (path, mimetype) => {
    expect((await fetchMedia(at(path), image())).mimetype).toBe(mimetype);
  });

  it('downloads a real PDF', async () => {
    const got = await fetchMedia(at('/invoice.pdf'), document());
    expect(got.mimetype).toBe('application/pdf');
    expect(got.bytes.equals(PDF)).toBe(true);
    expect(got.fileName).toBe('invoice.pdf');
  });

  it('takes the file name from Content-Disposition, preferring filename*', async () => {
    const got = await fetchMedia(at('/download'), document());
    expect(got.fileName).toBe('Rechnung №42.pdf');
  });

  it('accepts a body exactly at the size cap', async () => {
    const got = await fetchMedia(at('/pixel.png'), image({ maxBytes: PNG.length }));
    expect(got.bytes.length).toBe(PNG.length);
  });

  it('follows up to 5 redirects of every kind, relative ones too', async () => {
    const got = await fetchMedia(at('/hops/5'), image());
    expect(got.finalUrl).toBe(at('/hops/0'));
    const relative = await fetchMedia(at('/a/to-pixel-relative'), image());
    expect(relative.finalUrl).toBe(at('/pixel.png'));
  });

  it('reaches a server on ::1', async () => {
    const v6server = await startServer(handler, '::1');
    try {
      const got = await fetchMedia(`${v6server.origin}/pixel.png`, image());
      expect(got.mimetype).toBe('image/png');
    } finally {
      await v6server.close();
    }
  });

  it('reaches a DNS name through the injected lookup', async () => {
    const lookup = fakeLookup(() => [v4('127.0.0.1')]);
    const got = await fetchMedia(`http://media.test:${server.port}/pixel.png`, image({ lookup }));
    expect(got.finalUrl).toBe(`http://media.test:${server.port}/pixel.png`);
    expect(lookup.calls).toEqual(['media.test']);
  });
});

describe('fetchMedia refuses private addresses before connecting', () => {
  const spellings = [
    (p: number) => `http://127.0.0.1:${p}/pixel.png`,
    (p: number) => `http://127.0.0.2:${p}/pixel.png`,
    (p: number) => `http://localhost:${p}/pixel.png`,
    (p: number) => `http://LocalHost.:${p}/pixel.png`,
    (p: number) => `http://2130706433:${p}/pixel.png`,
    (p: number) => `http://0x7f000001:${p}/pixel.png`,
    (p: number) => `http://0177.0.0.1:${p}/pixel.png`,
    (p: number) => `http://127.1:${p}/pixel.png`,
    (p: number) => `http://[::1]:${p}/pixel.png`,
    (p: number) => `http://[::ffff:127.0.0.1]:${p}/pixel.png`,
    (p: number) => `http://[::ffff:7f00:1]:${p}/pixel.png`,
    (p: number) => `http://0:${p}/pixel.png`,
  ];

  it.each(spellings.map((f) => [f(0).replace(':0/', ':PORT/'), f]))('refuses %s', async (_name, spell) => {
    const before = server.hits.length + other.hits.length;
    const lookup = fakeLookup(() => [v4('127.0.0.1')]);
    const err = await expectMediaError(fetchMedia(spell(server.port), image({ allowPrivate: false, lookup })), 'invalid_url');
    expect(err.message).toMatch(/^The image URL points to .+; only public internet addresses are allowed\. The server's operator can allow private addresses with ALLOW_PRIVATE_URLS=true \(only for trusted users: it lets requests reach the local network\)\.$/);
    expect(server.hits.length + other.hits.length).toBe(before);
    expect(lookup.calls).toEqual([]);
  });

  it.each([
    ['loopback', [v4('127.0.0.1')], 'resolves to 127.0.0.1, a loopback address'],
    ['IPv6 loopback', [v6('::1')], 'resolves to ::1, a loopback address'],
    ['IPv4-mapped loopback', [v6('::ffff:127.0.0.1')], 'resolves to ::ffff:127.0.0.1, a loopback address'],
    ['private', [v4('10.1.2.3')], 'resolves to 10.1.2.3, a private address'],
    ['metadata', [v4('169.254.169.254')], 'resolves to 169.254.169.254, a link-local address'],
    ['CGNAT', [v4('100.64.1.1')], 'resolves to 100.64.1.1, a carrier-grade NAT address'],
    ['unique local', [v6('fd00::1')], 'resolves to fd00::1, a private address'],
    ['one bad among good', [v4('93.184.216.34'), v4('192.168.1.10')], 'resolves to 192.168.1.10, a private address'],
  ])('refuses a DNS name that resolves to %s', async (_name, answer, words) => {
    const before = server.hits.length;
    const lookup = fakeLookup(() => answer);
    const err = await expectMediaError(
      fetchMedia(`http://evil.test:${server.port}/pixel.png`, image({ allowPrivate: false, lookup })),
      'invalid_url',
    );
    expect(err.message).toBe(`The image URL has host evil.test, which ${words}; only public internet addresses are allowed. The server's operator can allow private addresses with ALLOW_PRIVATE_URLS=true (only for trusted users: it lets requests reach the local network).`);
    expect(lookup.calls).toEqual(['evil.test']);
    expect(server.hits.length).toBe(before);
  });
});

describe('fetchMedia checks every redirect hop', () => {
  // Here loopback 127.0.0.1 stands in for "public", so the first hop can be served locally and
  // the redirect target is what gets judged.
  const only127001 = (ip: string): boolean => ip === '127.0.0.1';

  it('refuses a redirect to a refused address literal, without connecting to it', async () => {
    const target = `http://127.0.0.2:${other.port}/pixel.png`;
    const before = other.hits.length;
    const err = await expectMediaError(
      fetchMediaWithPolicy(at(`/redirect?to=${encodeURIComponent(target)}`), image({ allowPrivate: false }), only127001),
      'invalid_url',
    );
    expect(err.message).toBe(
      `The URL that ${at('/redirect')} redirects to points to 127.0.0.2, a loopback address; only public internet addresses are allowed. The server's operator can allow private addresses with ALLOW_PRIVATE_URLS=true (only for trusted users: it lets requests reach the local network).`,
    );
    expect(other.hits.length).toBe(before);
  });

  it('refuses a redirect to a name that resolves to a refused address', async () => {
    const lookup = fakeLookup((name) => (name === 'inside.test' ? [v4('10.0.0.5')] : [v4('127.0.0.1')]));
    const target = `http://inside.test:${server.port}/pixel.png`;
    const err = await expectMediaError(
      fetchMediaWithPolicy(at(`/redirect?to=${encodeURIComponent(target)}`), image({ allowPrivate: false, lookup }), only127001),
      'invalid_url',
    );
    expect(err.message).toContain('has host inside.test, which resolves to 10.0.0.5, a private address');
    expect(lookup.calls).toEqual(['inside.test']);
  });

  it('refuses a redirect to 127.0.0.1 through the public API when private addresses are off', async () => {
    // The only way to reach a local server with the switch off is to be refused at the first hop.
    const before = server.hits.length;
    await expectMediaError(fetchMedia(at('/redirect?to=/pixel.png'), image({ allowPrivate: false })), 'invalid_url');
    expect(server.hits.length).toBe(before);
  });

  it('refuses a redirect to another scheme', async () => {
    const err = await expectMediaError(fetchMedia(at('/to-ftp'), image()), 'invalid_url');
    expect(err.message).toBe(`The URL that ${at('/to-ftp')} redirects to must start with http:// or https://.`);
  });

  it('refuses a redirect to a URL with credentials', async () => {
    const err = await expectMediaError(fetchMedia(at('/to-credentials'), image()), 'invalid_url');
    expect(err.message).toContain('must not contain a user name or password');
  });

  it('refuses a chain longer than the cap', async () => {
    const err = await expectMediaError(fetchMedia(at('/hops/6'), image()), 'fetch_failed');
    expect(err.message).toBe(`The image at ${at('/hops/6')} redirected more than 5 times; give the final address of the file.`);
    await expectMediaError(fetchMedia(at('/hops/3'), image({ maxRedirects: 2 })), 'fetch_failed');
    await expect(fetchMedia(at('/hops/2'), image({ maxRedirects: 2 }))).resolves.toMatchObject({ mimetype: 'image/png' });
  });

  it('refuses a redirect without a Location', async () => {
    const err = await expectMediaError(fetchMedia(at('/no-location'), image()), 'fetch_failed');
    expect(err.message).toContain('redirect without a Location');
  });
});

describe('fetchMedia connects to the address it checked', () => {
  it('looks a name up once per hop and never again for the connection', async () => {
    // A rebinding resolver: the first answer is the checked one, later answers point elsewhere.
    const lookup = fakeLookup((_name, call) => (call === 1 ? [v4('127.0.0.1')] : [v4('127.0.0.2')]));
    const before = other.hits.length;
    const got = await fetchMedia(`http://rebind.test:${server.port}/pixel.png`, image({ lookup }));
    expect(got.mimetype).toBe('image/png');
    expect(lookup.calls).toEqual(['rebind.test']);
    expect(other.hits.length).toBe(before);
  });

  it('re-resolves and re-checks on every hop, exactly once each', async () => {
    const lookup = fakeLookup(() => [v4('127.0.0.1')]);
    await fetchMedia(`http://hops.test:${server.port}/hops/3`, image({ lookup }));
    expect(lookup.calls).toEqual(['hops.test', 'hops.test', 'hops.test', 'hops.test']);
  });

  it('connects to the checked address even though the system resolver knows nothing of the name', async () => {
    // "pinned.invalid" can never resolve through DNS (RFC 6761), so success means no second lookup.
    const lookup = fakeLookup(() => [v4('127.0.0.1')]);
    const got = await fetchMedia(`http://pinned.invalid:${server.port}/pixel.png`, image({ lookup }));
    expect(got.fileName).toBe('pixel.png');
  });
});

describe('fetchMedia enforces the size cap', () => {
  it('refuses on Content-Length before reading the body', async () => {
    const started = Date.now();
    const err = await expectMediaError(fetchMedia(at('/big-declared.png'), image()), 'too_large');
    expect(err.message).toBe(`The image at ${at('/big-declared.png')} is larger than the 16 MB limit.`);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('stops reading a body without Content-Length as soon as it passes the cap', async () => {
    const started = Date.now();
    const err = await expectMediaError(fetchMedia(at('/big-chunked.png'), image({ maxBytes: 64 * 1024 })), 'too_large');
    expect(err.message).toBe(`The image at ${at('/big-chunked.png')} is larger than the 64 KB limit.`);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('refuses a declared body one byte over the cap', async () => {
    const err = await expectMediaError(fetchMedia(at('/invoice.pdf'), document({ maxBytes: PDF.length - 1 })), 'too_large');
    expect(err.message).toMatch(/^The document at .+ is larger than the \d+ bytes limit\.$/);
  });
});

describe('fetchMedia times out', () => {
  it('when the body stalls', async () => {
    const started = Date.now();
    const err = await expectMediaError(fetchMedia(at('/slow-body.png'), image({ timeoutMs: 300 })), 'timeout');
    expect(err.message).toBe(`The image at ${at('/slow-body.png')} did not download within 300 ms.`);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('when the headers never come', async () => {
    const err = await expectMediaError(fetchMedia(at('/slow-headers.png'), image({ timeoutMs: 1_500 })), 'timeout');
    expect(err.message).toContain('did not download within 1.5 seconds');
  });

  it('when the DNS lookup hangs', async () => {
    const lookup: LookupFn = () => new Promise(() => {});
    await expectMediaError(fetchMedia('http://hang.test/pixel.png', image({ timeoutMs: 200, lookup })), 'timeout');
  });
});

describe('fetchMedia checks the content', () => {
  it('refuses an HTML page served as image/png', async () => {
    const err = await expectMediaError(fetchMedia(at('/html-as-png.png'), image()), 'wrong_type');
    expect(err.message).toBe(
      `The image at ${at('/html-as-png.png')} is not a JPEG, PNG, WebP or GIF image (the server called it image/png, but the content is not).`,
    );
  });

  it('refuses a PDF served as an image, naming what it is', async () => {
    const err = await expectMediaError(fetchMedia(at('/pdf-as-png.png'), image()), 'wrong_type');
    expect(err.message).toContain('(its content is application/pdf)');
  });

  it('refuses text served as a PDF', async () => {
    const err = await expectMediaError(fetchMedia(at('/text-as-pdf.pdf'), document()), 'wrong_type');
    expect(err.message).toBe(`The document at ${at('/text-as-pdf.pdf')} is not a PDF (it does not start with %PDF-).`);
  });

  it('refuses an image served as a PDF, naming what it is', async () => {
    const err = await expectMediaError(fetchMedia(at('/png-as-pdf.pdf'), document()), 'wrong_type');
    expect(err.message).toBe(`The document at ${at('/png-as-pdf.pdf')} is not a PDF (its content is image/png).`);
  });

  it('refuses an empty body', async () => {
    const err = await expectMediaError(fetchMedia(at('/empty.png'), image()), 'wrong_type');
    expect(err.message).toContain('the server sent an empty body');
  });
});

describe('fetchMedia reports failed downloads', () => {
  it.each([
    ['/missing.png', 404],
    ['/broken.png', 500],
    ['/not-modified', 304],
  ])('refuses %s answering HTTP %i', async (path, status) => {
    const err = await expectMediaError(fetchMedia(at(path), image()), 'fetch_failed');
    expect(err.message).toBe(`The image at ${at(path)} could not be downloaded: the server answered HTTP ${status}.`);
  });

  it('reports a refused connection', async () => {
    const gone = await startServer(handler);
    const url = `${gone.origin}/pixel.png`;
    await gone.close();
    const err = await expectMediaError(fetchMedia(url, image()), 'fetch_failed');
    expect(err.message).toBe(`The image at ${url} could not be downloaded: the server refused the connection.`);
  });

  it('reports a name that does not resolve', async () => {
    const lookup: LookupFn = () => Promise.reject(Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }));
    const err = await expectMediaError(fetchMedia('http://nowhere.test/pixel.png', image({ lookup })), 'fetch_failed');
    expect(err.message).toBe('The image URL has host nowhere.test, which could not be found.');
  });

  it('reports a name with no addresses', async () => {
    const lookup: LookupFn = async () => [];
    await expectMediaError(fetchMedia('http://empty.test/pixel.png', image({ lookup })), 'fetch_failed');
  });

  it('refuses a malformed URL with invalid_url', async () => {
    const err = await expectMediaError(fetchMedia('ftp://example.com/a.png', image()), 'invalid_url');
    expect(err.message).toBe('The image URL must start with http:// or https://.');
  });

  it('keeps query strings, where signed links keep their secrets, out of messages', async () => {
    const err = await expectMediaError(fetchMedia(at('/missing.png?token=s3cr3t'), image()), 'fetch_failed');
    expect(err.message).not.toContain('s3cr3t');
  });
});
