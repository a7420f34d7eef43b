import { describe, expect, it } from 'vitest';
import { fileNameFromDisposition, fileNameFromUrl } from '../../src/delivery/media/content-disposition.js';

describe('fileNameFromDisposition', () => {
  it.each([
    ['attachment; filename="report.pdf"', 'report.pdf'],
    ['attachment; filename=report.pdf', 'report.pdf'],
    ['inline; FILENAME="a \\"quoted\\" name.pdf"', 'a "quoted" name.pdf'],
    [`attachment; filename="fallback.pdf"; filename*=UTF-8''%E2%82%AC%20rates.pdf`, '€ rates.pdf'],
    [`attachment; filename*=utf-8''na%C3%AFve.png`, 'naïve.png'],
    [`attachment; filename*=iso-8859-1'en'caf%E9.pdf`, 'café.pdf'],
    [`attachment; filename*=x-unknown''zzz.pdf; filename="plain.pdf"`, 'plain.pdf'],
    ['attachment; filename="../../etc/passwd"', 'passwd'],
    ['attachment; filename="C:\\\\Users\\\\me\\\\photo.jpg"', 'photo.jpg'],
    ['attachment; filename="bad\u0000\u0007name.pdf"', 'badname.pdf'],
    ['attachment; filename=".."', undefined],
    ['attachment; filename=""', undefined],
    ['attachment', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('reads %j as %j', (header, name) => {
    expect(fileNameFromDisposition(header)).toBe(name);
  });
});

describe('fileNameFromUrl', () => {
  it.each([
    ['https://example.com/files/invoice.pdf', 'invoice.pdf'],
    ['https://example.com/files/my%20photo.jpg?size=large', 'my photo.jpg'],
    ['https://example.com/files/100%25.png', '100%.png'],
    ['https://example.com/files/bad%zzname.png', 'bad%zzname.png'],
    ['https://example.com/files/', undefined],
    ['https://example.com', undefined],
    ['https://example.com/a/%2E%2E', undefined],
  ])('reads %s as %j', (url, name) => {
    expect(fileNameFromUrl(new URL(url))).toBe(name);
  });
});
