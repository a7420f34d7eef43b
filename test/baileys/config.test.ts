import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('Baileys settings in the configuration', () => {
  it('defaults: a pinned WhatsApp Web version, pacing on, 10 minutes before giving up, presence and full history off', () => {
    const config = loadConfig({});
    expect(config.driver).toBe('baileys');
    expect(config.whatsapp).toEqual({
      version: [2, 3000, 1043857760],
      pacingMinMs: 800,
      pacingMaxMs: 2_000,
      reconnectGiveUpMs: 600_000,
      linkTimeoutMs: 15_000,
      markOnlineOnConnect: false,
      syncFullHistory: false,
      libraryLogLevel: 'silent',
      webSocketUrl: undefined,
    });
    expect(Object.isFrozen(config.whatsapp)).toBe(true);
  });

  it('reads every setting from the environment', () => {
    const config = loadConfig({
      WHATSAPP_VERSION: '2.3000.1020000000',
      WHATSAPP_PACING_MIN_MS: '0',
      WHATSAPP_PACING_MAX_MS: '0',
      WHATSAPP_RECONNECT_GIVE_UP_MS: '120000',
      WHATSAPP_LINK_TIMEOUT_MS: '5000',
      WHATSAPP_MARK_ONLINE: 'true',
      WHATSAPP_FULL_HISTORY: '1',
      WHATSAPP_LOG_LEVEL: 'debug',
      WHATSAPP_WS_URL: 'ws://127.0.0.1:4567/ws/chat',
    });
    expect(config.whatsapp).toEqual({
      version: [2, 3000, 1020000000],
      pacingMinMs: 0,
      pacingMaxMs: 0,
      reconnectGiveUpMs: 120_000,
      linkTimeoutMs: 5_000,
      markOnlineOnConnect: true,
      syncFullHistory: true,
      libraryLogLevel: 'debug',
      webSocketUrl: 'ws://127.0.0.1:4567/ws/chat',
    });
  });

  it('refuses a malformed version, pacing upside down, and a non-WebSocket test URL', () => {
    expect(() => loadConfig({ WHATSAPP_VERSION: 'latest' })).toThrow(ConfigError);
    expect(() => loadConfig({ WHATSAPP_PACING_MIN_MS: '3000', WHATSAPP_PACING_MAX_MS: '1000' })).toThrow(/WHATSAPP_PACING_MIN_MS/);
    expect(() => loadConfig({ WHATSAPP_WS_URL: 'http://127.0.0.1:4567' })).toThrow(ConfigError);
  });

  it('refuses the test-server URL in production unless explicitly allowed', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', WHATSAPP_WS_URL: 'ws://127.0.0.1:4567' })).toThrow(/refused with NODE_ENV=production/);
    expect(loadConfig({ NODE_ENV: 'production', WHATSAPP_WS_URL: 'ws://127.0.0.1:4567', WHATSAPP_WS_URL_IN_PRODUCTION: 'true' }).whatsapp.webSocketUrl).toBe('ws://127.0.0.1:4567');
    expect(loadConfig({ NODE_ENV: 'production' }).whatsapp.webSocketUrl).toBeUndefined();
  });

  it('takes the sandbox\'s crash-test hang (a testing aid) as a positive count, never in production', () => {
    expect(loadConfig({ SANDBOX_HANG_AFTER_SENDS: '50' }).sandbox.hangAfterSends).toBe(50);
    expect(loadConfig({}).sandbox.hangAfterSends).toBeUndefined();
    expect(() => loadConfig({ SANDBOX_HANG_AFTER_SENDS: '0' })).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: 'production', SANDBOX_HANG_AFTER_SENDS: '50' })).toThrow(/refused with NODE_ENV=production/);
  });

  it('takes the sandbox\'s pacing (off by default) and refuses it upside down', () => {
    expect(loadConfig({}).sandbox).toMatchObject({ pacingMinMs: 0, pacingMaxMs: 0 });
    expect(loadConfig({ SANDBOX_PACING_MIN_MS: '20', SANDBOX_PACING_MAX_MS: '40' }).sandbox).toMatchObject({ pacingMinMs: 20, pacingMaxMs: 40 });
    expect(() => loadConfig({ SANDBOX_PACING_MIN_MS: '50', SANDBOX_PACING_MAX_MS: '10' })).toThrow(/SANDBOX_PACING_MIN_MS/);
  });
});
