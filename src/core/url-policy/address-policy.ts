import ipaddr from 'ipaddr.js';

export type IpAddress = ipaddr.IPv4 | ipaddr.IPv6;

/**
 * Parses a host that is an IP literal, in any spelling: dotted quad, the legacy IPv4 forms
 * (decimal `2130706433`, hex `0x7f000001`, octal `0177.0.0.1`, short `127.1`), a trailing dot,
 * and IPv6 with or without brackets or a zone. Returns null for a DNS name.
 */
export function parseIpLiteral(host: string): IpAddress | null {
  let h = host.trim();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.includes(':')) return parseIPv6(h);
  if (h.endsWith('.')) h = h.slice(0, -1);
  // ipaddr.js accepts the same legacy IPv4 forms that inet_aton and the WHATWG URL parser do.
  return ipaddr.IPv4.isValid(h) ? ipaddr.IPv4.parse(h) : null;
}

function parseIPv6(text: string): ipaddr.IPv6 | null {
  const noZone = text.split('%', 1)[0] ?? '';
  // ipaddr.js reads "::1.2.3.4" as "::ffff:1.2.3.4"; the WHATWG parser gets it right (::102:304).
  let canonical = noZone;
  try {
    canonical = new URL(`http://[${noZone}]/`).hostname.slice(1, -1);
  } catch {
    return null;
  }
  return ipaddr.IPv6.isValid(canonical) ? ipaddr.IPv6.parse(canonical) : null;
}

export interface AddressClass {
  public: boolean;
  /** ipaddr.js range of the address that would really be reached (the embedded IPv4 for tunnels). */
  range: string;
}

const GLOBAL_UNICAST_V6 = ipaddr.IPv6.parseCIDR('2000::/3');

/** Decides whether an IP address is on the public internet. Anything not an IP is not public. */
export function classifyAddress(ip: string | IpAddress): AddressClass {
  const addr = typeof ip === 'string' ? parseIpLiteral(ip) : ip;
  if (!addr) return { public: false, range: 'invalid' };
  if (addr.kind() === 'ipv4') return classifyV4(addr as ipaddr.IPv4);
  return classifyV6(addr as ipaddr.IPv6);
}

export function isPublicAddress(ip: string): boolean {
  return classifyAddress(ip).public;
}

function classifyV4(addr: ipaddr.IPv4): AddressClass {
  const range = addr.range();
  return { public: range === 'unicast', range };
}

function classifyV6(addr: ipaddr.IPv6): AddressClass {
  const range = addr.range();
  const bytes = addr.toByteArray();
  const v4At = (offset: number, xor = 0): ipaddr.IPv4 =>
    new ipaddr.IPv4(bytes.slice(offset, offset + 4).map((b) => b ^ xor));

  switch (range) {
    case 'ipv4Mapped': // ::ffff:a.b.c.d
    case 'rfc6145': // ::ffff:0:a.b.c.d
      return classifyV4(v4At(12));
    case 'rfc6052': {
      // 64:ff9b::/96 is NAT64 to a.b.c.d; the local-use 64:ff9b:1::/48 reaches who knows what.
      const wellKnown = bytes.slice(4, 12).every((b) => b === 0);
      return wellKnown ? classifyV4(v4At(12)) : { public: false, range };
    }
    case '6to4': // 2002:AABB:CCDD::/48 carries the relay's IPv4
      return classifyV4(v4At(2));
    case 'teredo': {
      // 2001:0:SSSS:SSSS:flags:port:CCCC:CCCC — server in clear, client obfuscated (XOR 0xff).
      const server = classifyV4(v4At(4));
      const client = classifyV4(v4At(12, 0xff));
      if (!server.public) return server;
      return client;
    }
    case 'unicast':
      // Only 2000::/3 is allocated for global unicast; the rest (::/8 etc.) is reserved.
      return addr.match(GLOBAL_UNICAST_V6) ? { public: true, range } : { public: false, range: 'reserved' };
    default:
      return { public: false, range };
  }
}

const RANGE_WORDS: Record<string, string> = {
  loopback: 'a loopback',
  private: 'a private',
  uniqueLocal: 'a private',
  linkLocal: 'a link-local',
  carrierGradeNat: 'a carrier-grade NAT',
  multicast: 'a multicast',
  unspecified: 'an unspecified',
  broadcast: 'a broadcast',
  invalid: 'an invalid',
};

/** "a loopback address", "a private address", "a reserved address", … for error messages. */
export function describeRange(range: string): string {
  return `${RANGE_WORDS[range] ?? 'a reserved'} address`;
}

/** Appended to every private-address refusal: the one switch that changes the answer. */
export const PRIVATE_SWITCH = " The server's operator can allow private addresses with ALLOW_PRIVATE_URLS=true (only for trusted users: it lets requests reach the local network).";
