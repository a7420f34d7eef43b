import type { LookupAddress, LookupOptions } from 'node:dns';
import { Agent } from 'undici';
import type { ResolvedAddress } from '../../core/url-policy/resolve-host.js';

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * An undici Agent that can reach one host name, and only at addresses already checked: its
 * socket lookup answers from that list instead of asking DNS again, so a name cannot be
 * re-pointed (DNS rebinding) between the check and the connection. TLS still verifies the
 * certificate against the host name.
 */
export function pinnedAgent(
  hostname: string,
  addresses: ResolvedAddress[],
  connectTimeoutMs: number,
  // One request per hop and nothing kept, unless a caller (webhooks) keeps connections to a receiver.
  pooling: Pick<Agent.Options, 'pipelining' | 'keepAliveTimeout' | 'connections'> = { pipelining: 0 },
): Agent {
  const expected = normalizeName(hostname);
  const lookup = (host: string, options: LookupOptions, callback: LookupCallback): void => {
    const first = addresses[0];
    if (normalizeName(host) !== expected || !first) {
      const err: NodeJS.ErrnoException = new Error(`Refusing to resolve unchecked host ${host}`);
      err.code = 'ENOTFOUND';
      callback(err, '');
      return;
    }
    if (options.all) callback(null, addresses.map((a) => ({ address: a.address, family: a.family })));
    else callback(null, first.address, first.family);
  };
  return new Agent({ connect: { lookup, timeout: connectTimeoutMs }, ...pooling });
}

function normalizeName(name: string): string {
  return name.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
}
