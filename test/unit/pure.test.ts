import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/core/errors.js';
import { newId, newMessageId, randomBase62 } from '../../src/core/ids.js';
import { bucketOf, WINDOW_BUCKETS } from '../../src/core/quota.js';
import { parseRecipient } from '../../src/core/recipients.js';
import { MESSAGE_RETRY_SCHEDULE, nextRetryDelay, WEBHOOK_RETRY_SCHEDULE } from '../../src/core/retry-schedule.js';
import { SecretBox } from '../../src/core/secret-box.js';
import { createLogger, redactUrl } from '../../src/logger.js';

describe('recipients', () => {
  it.each([
    ['12125551234', '12125551234', false],
    ['+1 (212) 555-1234', '12125551234', false],
    ['44 7700.900.123', '447700900123', false],
    ['120363012345678901@g.us', '120363012345678901@g.us', true],
    ['1234567890-1600000000@G.US', '1234567890-1600000000@g.us', true],
  ])('%s → %s', (raw, value, isGroup) => {
    expect(parseRecipient(raw)).toEqual({ value, isGroup });
  });
  it.each(['', '123456', '1234567890123456', '+-', 'abc1234567', '@g.us', '12345@s.whatsapp.net'])('refuses %j', (raw) => {
    expect(() => parseRecipient(raw)).toThrow(AppError);
  });
});

describe('retry schedules', () => {
  it('follows the Standard Webhooks schedule with at most ±20% jitter and gives up after it', () => {
    expect(WEBHOOK_RETRY_SCHEDULE.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(24 * 3600 * 1000);
    WEBHOOK_RETRY_SCHEDULE.forEach((base, i) => {
      expect(nextRetryDelay(WEBHOOK_RETRY_SCHEDULE, i + 1, () => 0)).toBe(Math.round(base * 0.8));
      expect(nextRetryDelay(WEBHOOK_RETRY_SCHEDULE, i + 1, () => 1)).toBe(Math.round(base * 1.2));
    });
    expect(nextRetryDelay(WEBHOOK_RETRY_SCHEDULE, WEBHOOK_RETRY_SCHEDULE.length + 1)).toBeNull();
    expect(nextRetryDelay(MESSAGE_RETRY_SCHEDULE, 1, () => 0.5)).toBe(MESSAGE_RETRY_SCHEDULE[0]);
  });
});

describe('quota buckets', () => {
  it('are minutes, 1,440 to a day', () => {
    expect(bucketOf(59_999)).toBe(0);
    expect(bucketOf(60_000)).toBe(1);
    expect(WINDOW_BUCKETS).toBe(1440);
  });
});

describe('secret box', () => {
  it('round-trips, uses a fresh nonce each time, hides the plaintext, and fails loudly with another secret', () => {
    const box = new SecretBox('operator-secret-operator-secret');
    const a = box.encrypt('whsec_plaintext-value');
    const b = box.encrypt('whsec_plaintext-value');
    expect(a).not.toBe(b);
    expect(a).not.toContain('plaintext');
    expect(box.decrypt(a)).toBe('whsec_plaintext-value');
    expect(() => new SecretBox('another-secret-another-secret').decrypt(a)).toThrow(/MESSAGEAPI_SECRET/);
    expect(() => box.decrypt(a.slice(0, -4) + 'AAAA')).toThrow();
  });
});

describe('log redaction', () => {
  it('masks keys and signing secrets in every line the logger writes', () => {
    const lines: string[] = [];
    const log = createLogger('info', { write: (line: string) => void lines.push(line) });
    log.info({ note: 'msg_abcdefghij0123456789ABCDEFGHIJ0123 and whsec_c2VjcmV0LXNpZ25pbmcta2V5' }, 'GET /send.php?apikey=whatever');
    expect(lines.join('')).not.toMatch(/abcdefghij|c2VjcmV0|whatever/);
    expect(lines.join('')).toContain('msg_[REDACTED]');
  });

  it('removes the apikey parameter wherever it stands in a URL', () => {
    expect(redactUrl('/send.php?apikey=msg_abc&text=hi')).toBe('/send.php?apikey=[REDACTED]&text=hi');
    expect(redactUrl('/api/v1/status?x=1&APIKEY=msg_abc')).toBe('/api/v1/status?x=1&APIKEY=[REDACTED]');
  });
});

describe('WhatsApp message ids', () => {
  it('look like Baileys ids and do not repeat across many draws of the random pool', async () => {
    const { newWhatsAppMessageId } = await import('../../src/core/ids.js');
    const ids = new Set(Array.from({ length: 20_000 }, () => newWhatsAppMessageId()));
    expect(ids.size).toBe(20_000);
    for (const id of [...ids].slice(0, 100)) expect(id).toMatch(/^3EB0[0-9A-F]{18}$/);
  });
});

describe('ids', () => {
  it('are 22 base62 characters after their prefix: the time, which sorts, then 15 random ones, every character in use', () => {
    const at = Date.UTC(2026, 11, 1, 12, 0, 0, 123);
    const ids = Array.from({ length: 20_000 }, (_, i) => newId('evt', at + Math.floor(i / 100)));
    for (const id of ids.slice(0, 100)) expect(id).toMatch(/^evt_[0-9A-Za-z]{22}$/);
    expect(new Set(ids).size).toBe(ids.length);
    // Ids of different milliseconds sort by time (a byte-wise sort, as the databases' indexes do).
    for (let i = 100; i < ids.length; i += 100) expect(Buffer.compare(Buffer.from(ids[i - 1]!), Buffer.from(ids[i]!))).toBe(-1);
    expect(newId('evt', Date.UTC(2081, 0, 1)).slice(4, 11) > newId('evt', Date.UTC(1970, 0, 1, 0, 0, 1)).slice(4, 11)).toBe(true);
    // The random part, drawn from a pool refilled 4 KB at a time: across many refills it still covers all 62 characters about evenly.
    const counts = new Map<string, number>();
    for (const id of ids) for (const c of id.slice(11)) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(62);
    const expected = (ids.length * 15) / 62;
    for (const n of counts.values()) expect(Math.abs(n - expected) / expected).toBeLessThan(0.1);
  });

  it('message ids are UUIDs of version 7: the time first, so later ids sort later; the rest random', () => {
    const at = Date.UTC(2026, 11, 1, 12, 0, 0, 123);
    const ids = Array.from({ length: 10_000 }, (_, i) => newMessageId(at + Math.floor(i / 100)));
    for (const id of ids.slice(0, 100)) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect(parseInt(ids[0]!.replace(/-/g, '').slice(0, 12), 16)).toBe(at);
    // Ids of different milliseconds sort by time; within one millisecond the random part decides.
    for (let i = 100; i < ids.length; i += 100) expect(ids[i - 1]! < ids[i]!).toBe(true);
    const randomPart = new Set(ids.slice(0, 100).map((id) => id.slice(-12)));
    expect(randomPart.size).toBe(100);
  });

  it('secrets (API keys) are base62 of the asked length', () => {
    const keys = Array.from({ length: 1000 }, () => randomBase62(40));
    for (const key of keys) expect(key).toMatch(/^[0-9A-Za-z]{40}$/);
    expect(new Set(keys).size).toBe(keys.length);
  });
});
