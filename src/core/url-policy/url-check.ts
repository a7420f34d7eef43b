import { classifyAddress, describeRange, parseIpLiteral, PRIVATE_SWITCH } from './address-policy.js';
import { MediaError } from './media-error.js';

/** Decides whether an IP address may be connected to. */
export type AddressPolicy = (ip: string) => boolean;

export const publicOnly: AddressPolicy = (ip) => classifyAddress(ip).public;
export const anyAddress: AddressPolicy = () => true;

export function addressPolicy(allowPrivate: boolean): AddressPolicy {
  return allowPrivate ? anyAddress : publicOnly;
}

export interface UrlCheckOptions {
  /** ALLOW_PRIVATE_URLS: lifts the address rule and nothing else. */
  allowPrivate?: boolean;
  /** Names the URL in messages: "file URL" (default), "image URL", "webhook URL", … */
  label?: string;
}

const EXAMPLE = 'https://example.com/photo.jpg';

/**
 * The request-time check of a media URL, without any network access: it must parse, use http or
 * https, carry no credentials, name a host, and a literal IP host must be public (unless
 * allowPrivate). DNS names are checked again, with their addresses, when fetched.
 */
export function checkMediaUrlSyntax(raw: string, opts: UrlCheckOptions = {}): URL {
  return checkUrlWithPolicy(raw, opts.label ?? 'file URL', addressPolicy(opts.allowPrivate ?? false));
}

export function checkUrlWithPolicy(raw: unknown, label: string, allowed: AddressPolicy): URL {
  const fail = (problem: string): never => {
    throw new MediaError('invalid_url', `The ${label} ${problem}`);
  };
  if (typeof raw !== 'string' || raw.trim() === '') {
    return fail(`is missing; give a full address starting with http:// or https://.`);
  }
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return fail(`is not a valid web address; give a full address such as ${EXAMPLE}.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return fail('must start with http:// or https://.');
  }
  if (url.username !== '' || url.password !== '') {
    return fail('must not contain a user name or password; make the file downloadable without them.');
  }
  if (url.hostname === '') {
    return fail(`has no host name; give a full address such as ${EXAMPLE}.`);
  }
  const refusal = hostRefusal(url.hostname, allowed);
  if (refusal) fail(`points to ${refusal}; only public internet addresses are allowed.${PRIVATE_SWITCH}`);
  return url;
}

/** Why a URL host may not be contacted without a DNS lookup, or null when it may. */
function hostRefusal(hostname: string, allowed: AddressPolicy): string | null {
  const ip = parseIpLiteral(hostname);
  if (ip) {
    const shown = ip.toString();
    return allowed(shown) ? null : `${shown}, ${describeRange(classifyAddress(ip).range)}`;
  }
  // RFC 6761: localhost names never leave the machine, whatever a resolver says. Refusing them
  // here turns a later send failure into an immediate 400.
  const name = hostname.toLowerCase().replace(/\.$/, '');
  const isLocalhost = name === 'localhost' || name.endsWith('.localhost');
  if (isLocalhost && !allowed('127.0.0.1')) return `${hostname}, a loopback address`;
  return null;
}
