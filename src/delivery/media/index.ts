export { MediaError, isMediaError, type MediaErrorCode } from '../../core/url-policy/media-error.js';
export {
  classifyAddress,
  describeRange,
  isPublicAddress,
  parseIpLiteral,
  type AddressClass,
  type IpAddress,
} from '../../core/url-policy/address-policy.js';
export { checkMediaUrlSyntax, type UrlCheckOptions } from '../../core/url-policy/url-check.js';
export { fetchMedia, type FetchMediaOptions, type FetchedMedia } from './fetch-media.js';
export { systemLookup, type LookupFn, type ResolvedAddress } from '../../core/url-policy/resolve-host.js';
export type { MediaKind } from './content-check.js';
export { DEFAULT_MEDIA_LIMITS } from './limits.js';
