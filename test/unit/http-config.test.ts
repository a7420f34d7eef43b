import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('transport settings in the configuration', () => {
  it('defaults: 30 s per request, 10 s for headers, 5 s idle keep-alive, 120 s of silence; streams rechecked every 2 s, 10 per account; metrics open', () => {
    const config = loadConfig({});
    expect(config.http).toEqual({ requestTimeoutMs: 30_000, headersTimeoutMs: 10_000, keepAliveTimeoutMs: 5_000, connectionTimeoutMs: 120_000, unauthenticatedBodiesMax: 32 });
    expect(config.streams).toEqual({ recheckMs: 2_000, perAccount: 10 });
    expect(config.metricsToken).toBeUndefined();
  });

  it('reads them from the environment', () => {
    const config = loadConfig({
      REQUEST_TIMEOUT_MS: '5000',
      HEADERS_TIMEOUT_MS: '2000',
      KEEP_ALIVE_TIMEOUT_MS: '1000',
      CONNECTION_TIMEOUT_MS: '0',
      UNAUTHENTICATED_BODIES_MAX: '4',
      STREAM_RECHECK_MS: '500',
      STREAMS_PER_ACCOUNT: '3',
      METRICS_TOKEN: 'a-token-of-16-chars',
    });
    expect(config.http).toEqual({ requestTimeoutMs: 5_000, headersTimeoutMs: 2_000, keepAliveTimeoutMs: 1_000, connectionTimeoutMs: 0, unauthenticatedBodiesMax: 4 });
    expect(config.streams).toEqual({ recheckMs: 500, perAccount: 3 });
    expect(config.metricsToken).toBe('a-token-of-16-chars');
  });

  it('refuses settings that contradict each other', () => {
    expect(() => loadConfig({ REQUEST_TIMEOUT_MS: '1000', HEADERS_TIMEOUT_MS: '2000' })).toThrow(ConfigError);
    expect(() => loadConfig({ CONNECTION_TIMEOUT_MS: '10000' })).toThrow(/CONNECTION_TIMEOUT_MS \(10000\) must be 0 or above 30000/);
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN/);
    expect(() => loadConfig({ STREAMS_PER_ACCOUNT: '0' })).toThrow(/STREAMS_PER_ACCOUNT/);
  });
});
