import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('TRUST_PROXY', () => {
  const trustOf = (value?: string) => loadConfig(value === undefined ? {} : { TRUST_PROXY: value }).trustProxy;

  it('trusts no proxy unless told', () => {
    expect(trustOf()).toBe(false);
    expect(trustOf('false')).toBe(false);
    expect(trustOf('0')).toBe(false);
  });

  it('takes true, a hop count, or proxy addresses and CIDRs', () => {
    expect(trustOf('true')).toBe(true);
    expect(trustOf('2')).toBe(2);
    expect(trustOf(' 127.0.0.1, 10.0.0.0/8 ,::1, fd00::/8, loopback ')).toEqual(['127.0.0.1', '10.0.0.0/8', '::1', 'fd00::/8', 'loopback']);
  });

  it('refuses anything else at start, naming the wrong entry', () => {
    for (const wrong of ['yes', '10.0.0.0/33', '::1/129', '10.0.0.1/8/1', 'proxy.example.com', ',']) {
      expect(() => trustOf(wrong)).toThrow(ConfigError);
    }
    expect(() => trustOf('127.0.0.1,nginx')).toThrow(/"nginx"/);
  });
});
