import { request, type Dispatcher } from 'undici';
import { sniffMedia, type MediaKind } from './content-check.js';
import { fileNameFromDisposition, fileNameFromUrl } from './content-disposition.js';
import { Deadline } from './deadline.js';
import { displayUrl, formatBytes, formatDuration } from './describe.js';
import { DEFAULT_MEDIA_LIMITS } from './limits.js';
import { MediaError } from '../../core/url-policy/media-error.js';
import { networkProblem } from './network-problem.js';
import { pinnedAgent } from './pinned-agent.js';
import { discardBody, readBodyCapped } from './read-body.js';
import { resolveAllowedAddresses, systemLookup, type LookupFn } from '../../core/url-policy/resolve-host.js';
import { addressPolicy, checkUrlWithPolicy, type AddressPolicy } from '../../core/url-policy/url-check.js';

export interface FetchMediaOptions {
  kind: MediaKind;
  /** ALLOW_PRIVATE_URLS: lifts the address rule and nothing else. */
  allowPrivate: boolean;
  maxBytes: number;
  /** For the whole download: DNS, every redirect, headers and body. */
  timeoutMs: number;
  /** Default 5. */
  maxRedirects?: number;
  /** Default: the system resolver. */
  lookup?: LookupFn;
}

export interface FetchedMedia {
  bytes: Buffer;
  /** Judged by the bytes: image/jpeg, image/png, image/webp, image/gif or application/pdf. */
  mimetype: string;
  fileName?: string;
  finalUrl: string;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

const ACCEPT: Record<MediaKind, string> = {
  image: 'image/jpeg, image/png, image/webp, image/gif;q=0.9, */*;q=0.1',
  document: 'application/pdf, */*;q=0.1',
  video: 'video/mp4, */*;q=0.1',
  audio: 'audio/ogg, audio/mpeg, audio/mp4, audio/aac, audio/wav, */*;q=0.1',
  sticker: 'image/webp, */*;q=0.1',
};

const WANTED: Record<MediaKind, string> = {
  image: 'a JPEG, PNG, WebP or GIF image',
  document: 'a PDF',
  video: 'an MP4 video',
  audio: 'an MP3, M4A/AAC, OGG or WAV audio file',
  sticker: 'a WebP image',
};

/** Downloads an image or PDF the way SPEC §7 demands; every failure is a MediaError. */
export function fetchMedia(url: string, opts: FetchMediaOptions): Promise<FetchedMedia> {
  return fetchMediaWithPolicy(url, opts, addressPolicy(opts.allowPrivate));
}

/**
 * fetchMedia with the address rule given as a function. Not part of the public API: tests use it
 * to let loopback stand in for "public" and show that a redirect to another address is refused.
 */
export async function fetchMediaWithPolicy(
  rawUrl: string,
  opts: FetchMediaOptions,
  allowed: AddressPolicy,
): Promise<FetchedMedia> {
  const subject = `The ${opts.kind} at ${displayUrl(rawUrl)}`;
  const maxRedirects = opts.maxRedirects ?? DEFAULT_MEDIA_LIMITS.maxRedirects;
  const lookup = opts.lookup ?? systemLookup;
  const deadline = new Deadline(opts.timeoutMs);
  const fail = (code: 'fetch_failed' | 'too_large' | 'wrong_type', sentence: string): MediaError =>
    new MediaError(code, `${subject} ${sentence}`);

  try {
    let label = `${opts.kind} URL`;
    let url = checkUrlWithPolicy(rawUrl, label, allowed);
    for (let redirects = 0; ; redirects++) {
      // One lookup per hop, and the connection goes only to what it returned.
      const addresses = await deadline.race(resolveAllowedAddresses(url, label, lookup, allowed));
      const agent = pinnedAgent(url.hostname, addresses, opts.timeoutMs);
      try {
        const res = await get(url, opts.kind, agent, deadline.signal);

        if (REDIRECT_STATUSES.has(res.statusCode)) {
          discardBody(res.body);
          const location = header(res, 'location');
          if (!location) throw fail('fetch_failed', 'could not be downloaded: the server sent a redirect without a Location.');
          if (redirects >= maxRedirects) {
            throw fail('fetch_failed', `redirected more than ${maxRedirects} times; give the final address of the file.`);
          }
          label = `URL that ${displayUrl(url)} redirects to`;
          url = checkUrlWithPolicy(resolveLocation(location, url), label, allowed);
          continue;
        }

        if (res.statusCode < 200 || res.statusCode > 299) {
          discardBody(res.body);
          throw fail('fetch_failed', `could not be downloaded: the server answered HTTP ${res.statusCode}.`);
        }

        const bytes = await readBodyCapped(res.body, header(res, 'content-length'), opts.maxBytes);
        if (!bytes) throw fail('too_large', `is larger than the ${formatBytes(opts.maxBytes)} limit.`);

        const sniffed = await sniffMedia(opts.kind, bytes);
        if (!sniffed.mimetype) {
          throw fail('wrong_type', wrongTypeSentence(opts.kind, bytes.length, header(res, 'content-type'), sniffed.detected));
        }
        return {
          bytes,
          mimetype: sniffed.mimetype,
          fileName: fileNameFromDisposition(header(res, 'content-disposition')) ?? fileNameFromUrl(url),
          finalUrl: url.href,
        };
      } finally {
        await agent.destroy().catch(() => {});
      }
    }
  } catch (err) {
    if (err instanceof MediaError) throw err;
    if (deadline.expired) {
      throw new MediaError('timeout', `${subject} did not download within ${formatDuration(opts.timeoutMs)}.`, { cause: err });
    }
    throw new MediaError('fetch_failed', `${subject} could not be downloaded: ${networkProblem(err)}.`, { cause: err });
  } finally {
    deadline.clear();
  }
}

function get(url: URL, kind: MediaKind, agent: Dispatcher, signal: AbortSignal): Promise<Dispatcher.ResponseData> {
  return request(url, {
    method: 'GET',
    dispatcher: agent,
    signal,
    headers: {
      accept: ACCEPT[kind],
      // Compressed bodies would dodge the size cap until decompressed.
      'accept-encoding': 'identity',
      'user-agent': 'MessageAPI media fetcher',
    },
  });
}

function resolveLocation(location: string, base: URL): string {
  try {
    return new URL(location, base).href;
  } catch {
    return location; // checkUrlWithPolicy turns it into a clear invalid_url
  }
}

function header(res: Dispatcher.ResponseData, name: string): string | undefined {
  const value = res.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function wrongTypeSentence(kind: MediaKind, length: number, claimed?: string, detected?: string): string {
  const wanted = WANTED[kind];
  let why: string;
  if (length === 0) why = 'the server sent an empty body';
  else if (detected) why = `its content is ${detected}`;
  else if (kind === 'document') why = 'it does not start with %PDF-';
  else if (claimed) why = `the server called it ${claimed.split(';', 1)[0]?.trim()}, but the content is not`;
  else why = `its content is not a recognised ${kind === 'sticker' ? 'image' : kind === 'image' ? 'image' : kind}`;
  return `is not ${wanted} (${why}).`;
}
