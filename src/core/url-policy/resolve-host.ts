import { lookup as dnsLookup } from 'node:dns/promises';
import { classifyAddress, describeRange, parseIpLiteral, PRIVATE_SWITCH } from './address-policy.js';
import { MediaError } from './media-error.js';
import type { AddressPolicy } from './url-check.js';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to all its addresses. Injectable so tests never touch real DNS. */
export type LookupFn = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemLookup: LookupFn = async (hostname) => {
  const found = await dnsLookup(hostname, { all: true, verbatim: true });
  return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

/**
 * The addresses a URL's host may be reached at, every one of them allowed by the policy; the
 * caller connects only to these. A name with any refused address is refused as a whole, since
 * the connection could land on any of them.
 */
export async function resolveAllowedAddresses(
  url: URL,
  label: string,
  lookup: LookupFn,
  allowed: AddressPolicy,
): Promise<ResolvedAddress[]> {
  const literal = parseIpLiteral(url.hostname);
  if (literal) {
    // checkUrlWithPolicy already judged it; judged again here so this function stands alone.
    const address = literal.toString();
    if (!allowed(address)) throw refused(label, `points to ${address}`, address);
    return [{ address, family: literal.kind() === 'ipv6' ? 6 : 4 }];
  }

  let found: ResolvedAddress[];
  try {
    found = await lookup(url.hostname);
  } catch (err) {
    throw new MediaError('fetch_failed', `The ${label} has host ${url.hostname}, which could not be found.`, {
      cause: err,
    });
  }
  if (found.length === 0) {
    throw new MediaError('fetch_failed', `The ${label} has host ${url.hostname}, which has no address.`);
  }
  for (const { address } of found) {
    if (!allowed(address)) throw refused(label, `has host ${url.hostname}, which resolves to ${address}`, address);
  }
  return found;
}

function refused(label: string, what: string, address: string): MediaError {
  const range = describeRange(classifyAddress(address).range);
  return new MediaError(
    'invalid_url',
    `The ${label} ${what}, ${range}; only public internet addresses are allowed.${PRIVATE_SWITCH}`,
  );
}
