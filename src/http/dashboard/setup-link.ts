import { issueSetupToken } from '../../core/setup-token.js';
import type { Runtime } from '../../runtime.js';

/**
 * On a server without accounts: a one-time link to create the first (admin) account in the
 * browser. The token is in the fragment (#), so it never reaches a request log.
 */
export async function firstRunSetupLink(runtime: Runtime, listenUrl: string): Promise<string | undefined> {
  const token = await issueSetupToken(runtime.store, runtime.clock());
  if (!token) return undefined;
  const base = runtime.config.publicUrl ?? listenUrl.replace('//0.0.0.0', '//localhost').replace('//[::]', '//localhost');
  return `${base}/setup#token=${token}`;
}

export function setupLinkBanner(link: string): string {
  return [
    '',
    '  No accounts yet. Create the first one, an admin, in your browser (this link works once, for 24 hours):',
    '',
    `    ${link}`,
    '',
    '  Or from the command line: messageapi accounts create --admin --email you@example.com --plan unlimited --password',
    '',
  ].join('\n');
}
