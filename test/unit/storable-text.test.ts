import { describe, expect, it } from 'vitest';
import { isStorableText, storableText } from '../../src/core/storable-text.js';

describe('storable text', () => {
  it('tells text PostgreSQL can store from text it cannot', () => {
    expect(isStorableText('plain, naïve, 😀')).toBe(true);
    expect(isStorableText('a\u0000b')).toBe(false);
    expect(isStorableText('\ud83d')).toBe(false);
    expect(isStorableText('\ude00x')).toBe(false);
    expect(isStorableText('\ude00\ud83d')).toBe(false);
  });

  it('drops NULs and unpaired surrogates, keeps pairs, and never cuts a pair in half', () => {
    expect(storableText('ok\u0000then', 100)).toBe('okthen');
    expect(storableText('a\ud800b\udc00c\ud83d\ude00', 100)).toBe('abc\ud83d\ude00');
    // A NUL between the halves of what looks like a pair: both halves were unpaired in the original.
    expect(storableText('\ud83d\u0000\ude00', 100)).toBe('');
    expect(storableText('ab\ud83d\ude00', 3)).toBe('ab');
    expect(storableText('x'.repeat(10), 4)).toBe('xxxx');
    expect(storableText(null, 4)).toBeNull();
    for (const sample of ['\u0000\u0000', 'ÿ\ud800'.repeat(50), '😀'.repeat(10)]) expect(isStorableText(storableText(sample, 7))).toBe(true);
  });
});
