export { MediaError, isMediaError, type MediaErrorCode } from './media-error.js';
export {
  classifyAddress,
  describeRange,
  isPublicAddress,
  parseIpLiteral,
  type AddressClass,
  type IpAddress,
} from './address-policy.js';
export { checkMediaUrlSyntax, type UrlCheckOptions } from './url-check.js';
export { fetchMedia, type FetchMediaOptions, type FetchedMedia } from './fetch-media.js';
export { systemLookup, type LookupFn, type ResolvedAddress } from './resolve-host.js';
export type { MediaKind } from './content-check.js';
export { DEFAULT_MEDIA_LIMITS } from './limits.js';
