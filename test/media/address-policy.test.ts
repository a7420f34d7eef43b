import { describe, expect, it } from 'vitest';
import { classifyAddress, describeRange, isPublicAddress, parseIpLiteral } from '../../src/delivery/media/index.js';

// Classification only: nothing here opens a connection.

const refusedV4: Array<[string, string]> = [
  ['127.0.0.1', 'loopback'],
  ['127.255.255.254', 'loopback'],
  ['10.0.0.1', 'private'],
  ['10.255.255.255', 'private'],
  ['172.16.0.1', 'private'],
  ['172.31.255.255', 'private'],
  ['192.168.1.1', 'private'],
  ['169.254.169.254', 'linkLocal'],
  ['169.254.0.1', 'linkLocal'],
  ['100.64.0.1', 'carrierGradeNat'],
  ['100.127.255.255', 'carrierGradeNat'],
  ['224.0.0.1', 'multicast'],
  ['239.255.255.250', 'multicast'],
  ['0.0.0.0', 'unspecified'],
  ['0.1.2.3', 'unspecified'],
  ['255.255.255.255', 'broadcast'],
  ['240.0.0.1', 'reserved'],
  ['250.1.2.3', 'reserved'],
  ['192.0.0.8', 'reserved'],
  ['192.0.2.1', 'reserved'], // TEST-NET-1
  ['198.51.100.7', 'reserved'], // TEST-NET-2
  ['203.0.113.9', 'reserved'], // TEST-NET-3
  ['198.18.0.1', 'reserved'], // benchmarking 198.18/15
  ['198.19.255.255', 'reserved'],
  ['192.88.99.1', 'reserved'], // 6to4 relay anycast
];

const publicV4 = [
  '8.8.8.8',
  '1.1.1.1',
  '93.184.216.34',
  '11.0.0.1',
  '9.255.255.255',
  '172.15.255.255',
  '172.32.0.1',
  '192.167.255.255',
  '192.169.0.1',
  '169.253.255.255',
  '169.255.0.1',
  '100.63.255.255',
  '100.128.0.1',
  '198.17.255.255',
  '198.20.0.1',
  '223.255.255.254',
  '1.0.0.0',
];

// Every way of writing an address that the WHATWG URL parser or inet_aton accepts.
const legacyV4: Array<[string, string]> = [
  ['2130706433', '127.0.0.1'],
  ['0x7f000001', '127.0.0.1'],
  ['0X7F000001', '127.0.0.1'],
  ['017700000001', '127.0.0.1'],
  ['127.1', '127.0.0.1'],
  ['127.0.1', '127.0.0.1'],
  ['0177.0.0.1', '127.0.0.1'],
  ['0177.0.0.01', '127.0.0.1'],
  ['0x7f.0.0.1', '127.0.0.1'],
  ['0x7f.1', '127.0.0.1'],
  ['0x7f.0x0.0.1', '127.0.0.1'],
  ['127.0.0.1.', '127.0.0.1'],
  ['0', '0.0.0.0'],
  ['167772161', '10.0.0.1'],
  ['0xa9fea9fe', '169.254.169.254'],
  ['3232235777', '192.168.1.1'],
  ['0300.0250.1.1', '192.168.1.1'],
  ['1681915905', '100.64.0.1'],
];

const refusedV6: Array<[string, string]> = [
  ['::1', 'loopback'],
  ['[::1]', 'loopback'],
  ['0:0:0:0:0:0:0:1', 'loopback'],
  ['0000:0000:0000::0001', 'loopback'],
  ['::', 'unspecified'],
  ['::ffff:127.0.0.1', 'loopback'],
  ['::ffff:7f00:1', 'loopback'],
  ['[::ffff:7f00:1]', 'loopback'],
  ['0:0:0:0:0:ffff:7f00:1', 'loopback'],
  ['::FFFF:127.0.0.1', 'loopback'],
  ['::ffff:10.0.0.1', 'private'],
  ['::ffff:169.254.169.254', 'linkLocal'],
  ['::ffff:100.64.0.1', 'carrierGradeNat'],
  ['::ffff:0.0.0.0', 'unspecified'],
  ['::ffff:0:127.0.0.1', 'loopback'], // IPv4-translated (RFC 6145)
  ['64:ff9b::127.0.0.1', 'loopback'], // NAT64
  ['64:ff9b::a00:1', 'private'],
  ['64:ff9b:1::808:808', 'rfc6052'], // local-use NAT64 prefix: never public
  ['2002:7f00:1::', 'loopback'], // 6to4 of 127.0.0.1
  ['2002:c0a8:101::1', 'private'], // 6to4 of 192.168.1.1
  ['2001:0:a00:1::1', 'private'], // Teredo server 10.0.0.1
  ['2001:0:4136:e378:8000:63bf:f5ff:fffe', 'private'], // Teredo client 10.0.0.1 (XORed)
  ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'reserved'], // Teredo client 192.0.2.45
  ['fc00::1', 'uniqueLocal'],
  ['fd12:3456:789a::1', 'uniqueLocal'],
  ['fe80::1', 'linkLocal'],
  ['fe80::1%eth0', 'linkLocal'],
  ['[fe80::1%25eth0]', 'linkLocal'],
  ['febf::1', 'linkLocal'],
  ['fec0::1', 'deprecatedSiteLocal'],
  ['ff02::1', 'multicast'],
  ['ff05::1:3', 'multicast'],
  ['100::1', 'discard'],
  ['2001:db8::1', 'reserved'], // documentation
  ['2001:2::1', 'benchmarking'],
  ['3fff::1', 'reserved'], // documentation (RFC 9637)
  ['5f00::1', 'segmentRouting'],
  ['::7f00:1', 'reserved'], // deprecated IPv4-compatible
  ['::127.0.0.1', 'reserved'], // the same, written dotted
  ['::0.0.0.2', 'reserved'],
  ['4000::1', 'reserved'], // outside 2000::/3
];

const publicV6 = [
  '2606:4700:4700::1111',
  '2001:4860:4860::8888',
  '[2a00:1450:4001:80b::200e]',
  '::ffff:8.8.8.8',
  '::ffff:808:808',
  '64:ff9b::8.8.8.8',
  '2002:808:808::1',
  '2001:0:4136:e378:8000:63bf:f7f7:f7f7', // Teredo server 65.54.227.120, client 8.8.8.8
];

const notAnAddress = ['', 'example.com', 'localhost', '1.2.3.256', '1.2.3.4.5', '08.0.0.1', 'not an ip', '::g', '[::1'];

describe('isPublicAddress', () => {
  it.each(refusedV4)('refuses %s (%s)', (ip, range) => {
    expect(isPublicAddress(ip)).toBe(false);
    expect(classifyAddress(ip)).toEqual({ public: false, range });
  });

  it.each(publicV4)('accepts %s', (ip) => {
    expect(isPublicAddress(ip)).toBe(true);
  });

  it.each(legacyV4)('reads legacy IPv4 spelling %s as %s and refuses it', (spelling, canonical) => {
    expect(parseIpLiteral(spelling)?.toString()).toBe(canonical);
    expect(isPublicAddress(spelling)).toBe(false);
  });

  it.each(refusedV6)('refuses %s (%s)', (ip, range) => {
    expect(isPublicAddress(ip)).toBe(false);
    expect(classifyAddress(ip)).toEqual({ public: false, range });
  });

  it.each(publicV6)('accepts %s', (ip) => {
    expect(isPublicAddress(ip)).toBe(true);
  });

  it.each(notAnAddress)('does not call %j a public address', (text) => {
    expect(isPublicAddress(text)).toBe(false);
    expect(parseIpLiteral(text)).toBeNull();
  });

  it('accepts legacy spellings of a public address too', () => {
    expect(isPublicAddress('134744072')).toBe(true); // 8.8.8.8
    expect(isPublicAddress('0x08080808')).toBe(true);
    expect(isPublicAddress('8.8.2056')).toBe(true);
  });
});

describe('the WHATWG URL parser', () => {
  // fetchMedia reads URL.hostname, so it sees only the canonical form; the classifier must agree.
  it.each(legacyV4)('canonicalises http://%s/ to %s, as the classifier does', (spelling, canonical) => {
    expect(new URL(`http://${spelling}/`).hostname).toBe(canonical);
  });

  it.each([
    ['[::ffff:127.0.0.1]', '[::ffff:7f00:1]'],
    ['[0:0:0:0:0:0:0:1]', '[::1]'],
    ['[::127.0.0.1]', '[::7f00:1]'],
    ['%31%32%37.0.0.1', '127.0.0.1'],
    ['LOCALHOST', 'localhost'],
  ])('canonicalises http://%s/ to %s', (spelling, canonical) => {
    expect(new URL(`http://${spelling}/`).hostname).toBe(canonical);
    expect(isPublicAddress(canonical)).toBe(false);
  });

  it.each(['1.2.3.256', '4294967296', '0x100000000', '08.0.0.1'])('rejects http://%s/ outright', (spelling) => {
    expect(() => new URL(`http://${spelling}/`)).toThrow();
  });
});

describe('describeRange', () => {
  it.each([
    ['loopback', 'a loopback address'],
    ['private', 'a private address'],
    ['uniqueLocal', 'a private address'],
    ['linkLocal', 'a link-local address'],
    ['carrierGradeNat', 'a carrier-grade NAT address'],
    ['multicast', 'a multicast address'],
    ['benchmarking', 'a reserved address'],
    ['reserved', 'a reserved address'],
  ])('%s reads as %s', (range, words) => {
    expect(describeRange(range)).toBe(words);
  });
});
