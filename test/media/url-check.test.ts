import { describe, expect, it } from 'vitest';
import { checkMediaUrlSyntax, MediaError } from '../../src/delivery/media/index.js';

function refusal(raw: unknown, opts?: { allowPrivate?: boolean; label?: string }): MediaError {
  try {
    checkMediaUrlSyntax(raw as string, opts);
  } catch (err) {
    expect(err).toBeInstanceOf(MediaError);
    expect((err as MediaError).code).toBe('invalid_url');
    return err as MediaError;
  }
  throw new Error(`expected ${String(raw)} to be refused`);
}

describe('checkMediaUrlSyntax', () => {
  it.each([
    ['https://example.com/a.png', 'https://example.com/a.png'],
    ['http://example.com:8080/x/y.pdf?sig=1', 'http://example.com:8080/x/y.pdf?sig=1'],
    ['  https://example.com/a.png  ', 'https://example.com/a.png'],
    ['HTTPS://EXAMPLE.COM/A.png', 'https://example.com/A.png'],
    ['http://8.8.8.8/a.png', 'http://8.8.8.8/a.png'],
    ['http://134744072/a.png', 'http://8.8.8.8/a.png'],
    ['https://[2606:4700::1111]/a.png', 'https://[2606:4700::1111]/a.png'],
    ['https://xn--bcher-kva.example/a.png', 'https://xn--bcher-kva.example/a.png'],
  ])('accepts %s', (raw, href) => {
    expect(checkMediaUrlSyntax(raw).href).toBe(href);
  });

  it.each([
    ['', 'is missing'],
    ['   ', 'is missing'],
    ['example.com/a.png', 'is not a valid web address'],
    ['https://', 'is not a valid web address'],
    ['http://1.2.3.256/', 'is not a valid web address'],
    ['http://exa mple.com/', 'is not a valid web address'],
    ['ftp://example.com/a.png', 'must start with http:// or https://'],
    ['file:///etc/passwd', 'must start with http:// or https://'],
    ['javascript:alert(1)', 'must start with http:// or https://'],
    ['data:image/png;base64,iVBORw0KGgo=', 'must start with http:// or https://'],
    ['gopher://example.com/', 'must start with http:// or https://'],
    ['https://user:secret@example.com/a.png', 'must not contain a user name or password'],
    ['https://user@example.com/a.png', 'must not contain a user name or password'],
    ['https://:secret@example.com/a.png', 'must not contain a user name or password'],
  ])('refuses %j because it %s', (raw, problem) => {
    const err = refusal(raw);
    expect(err.message).toContain(problem);
    expect(err.message).toMatch(/^The file URL .+\.$/);
  });

  it('refuses a value that is not a string', () => {
    expect(refusal(42).message).toContain('is missing');
    expect(refusal(undefined).message).toContain('is missing');
  });

  it('says exactly what to do about the scheme', () => {
    expect(refusal('ftp://example.com/a.png').message).toBe('The file URL must start with http:// or https://.');
  });

  it.each([
    ['http://127.0.0.1/a.png', '127.0.0.1, a loopback address'],
    ['http://127.0.0.1:8080/a.png', '127.0.0.1, a loopback address'],
    ['http://2130706433/a.png', '127.0.0.1, a loopback address'],
    ['http://0x7f000001/a.png', '127.0.0.1, a loopback address'],
    ['http://127.1/a.png', '127.0.0.1, a loopback address'],
    ['http://0177.0.0.1/a.png', '127.0.0.1, a loopback address'],
    ['http://127.0.0.1./a.png', '127.0.0.1, a loopback address'],
    ['http://%31%32%37.0.0.1/a.png', '127.0.0.1, a loopback address'],
    ['http://[::1]/a.png', '::1, a loopback address'],
    ['http://[::ffff:127.0.0.1]/a.png', '::ffff:7f00:1, a loopback address'],
    ['http://[::ffff:7f00:1]/a.png', '::ffff:7f00:1, a loopback address'],
    ['http://[::]/a.png', '::, an unspecified address'],
    ['http://0/a.png', '0.0.0.0, an unspecified address'],
    ['http://10.0.0.1/a.png', '10.0.0.1, a private address'],
    ['http://172.16.5.4/a.png', '172.16.5.4, a private address'],
    ['http://192.168.0.10/a.png', '192.168.0.10, a private address'],
    ['http://169.254.169.254/latest/meta-data/', '169.254.169.254, a link-local address'],
    ['http://100.64.0.1/a.png', '100.64.0.1, a carrier-grade NAT address'],
    ['http://224.0.0.1/a.png', '224.0.0.1, a multicast address'],
    ['http://240.0.0.1/a.png', '240.0.0.1, a reserved address'],
    ['http://198.18.0.1/a.png', '198.18.0.1, a reserved address'],
    ['http://[fc00::1]/a.png', 'fc00::1, a private address'],
    ['http://[fe80::1]/a.png', 'fe80::1, a link-local address'],
    ['http://[ff02::1]/a.png', 'ff02::1, a multicast address'],
    ['http://[64:ff9b::a00:1]/a.png', '64:ff9b::a00:1, a private address'],
    ['http://localhost/a.png', 'localhost, a loopback address'],
    ['http://LOCALHOST:3000/a.png', 'localhost, a loopback address'],
    ['http://localhost./a.png', 'localhost., a loopback address'],
    ['http://api.localhost/a.png', 'api.localhost, a loopback address'],
  ])('refuses %s as pointing to %s', (raw, where) => {
    const err = refusal(raw);
    expect(err.message).toBe(`The file URL points to ${where}; only public internet addresses are allowed. The server's operator can allow private addresses with ALLOW_PRIVATE_URLS=true (only for trusted users: it lets requests reach the local network).`);
  });

  it('accepts private and loopback hosts when allowPrivate is on', () => {
    for (const raw of ['http://127.0.0.1:3000/a.png', 'http://localhost/a.png', 'http://[::1]/a', 'http://10.0.0.1/a', 'http://2130706433/']) {
      expect(checkMediaUrlSyntax(raw, { allowPrivate: true })).toBeInstanceOf(URL);
    }
  });

  it('lifts only the address rule when allowPrivate is on', () => {
    expect(refusal('ftp://127.0.0.1/a.png', { allowPrivate: true }).message).toContain('must start with http://');
    expect(refusal('http://u:p@127.0.0.1/a.png', { allowPrivate: true }).message).toContain('user name or password');
    expect(refusal('not a url', { allowPrivate: true }).message).toContain('not a valid web address');
  });

  it('names the URL as the caller asks', () => {
    expect(refusal('ftp://example.com/', { label: 'webhook URL' }).message).toBe(
      'The webhook URL must start with http:// or https://.',
    );
  });

  it('leaves DNS names that are not localhost to the fetcher', () => {
    // Their addresses are only known at fetch time, where they are checked.
    expect(checkMediaUrlSyntax('http://internal.corp.example/a.png').hostname).toBe('internal.corp.example');
  });
});
