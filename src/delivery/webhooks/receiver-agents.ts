import type { Agent } from 'undici';
import { pinnedAgent } from '../media/pinned-agent.js';
import type { ResolvedAddress } from '../../core/url-policy/resolve-host.js';

const IDLE_MS = 30_000;

/**
 * Keep-alive connections to webhook receivers, each pinned to addresses that were checked just
 * before the request (as the media fetcher's agent is, but kept open: one receiver gets many
 * events). An agent is reused only while a fresh lookup gives the same addresses, so a name that
 * is re-pointed gets a new agent, and that one is checked first.
 */
export class ReceiverAgents {
  private readonly agents = new Map<string, { agent: Agent; usedAt: number }>();

  constructor(private readonly connectTimeoutMs: number) {}

  get(url: URL, addresses: ResolvedAddress[]): Agent {
    const now = Date.now();
    const key = `${url.protocol}//${url.host}|${addresses.map((a) => a.address).sort().join(',')}`;
    const found = this.agents.get(key);
    if (found) {
      found.usedAt = now;
      return found.agent;
    }
    this.sweep(now);
    const agent = pinnedAgent(url.hostname, addresses, this.connectTimeoutMs, { keepAliveTimeout: 4_000, connections: 64 });
    this.agents.set(key, { agent, usedAt: now });
    return agent;
  }

  async close(): Promise<void> {
    const all = [...this.agents.values()];
    this.agents.clear();
    await Promise.allSettled(all.map(({ agent }) => agent.destroy()));
  }

  private sweep(now: number): void {
    for (const [key, entry] of this.agents) {
      if (now - entry.usedAt > IDLE_MS) {
        this.agents.delete(key);
        void entry.agent.close().catch(() => undefined);
      }
    }
  }
}
