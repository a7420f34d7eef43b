import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { routeSignalConsole } from '../../src/whatsapp/baileys/signal-console.js';

describe("libsignal's console lines", () => {
  it('go to the log as a sentence without the session record, never to stdout; other console calls are untouched', () => {
    const printed: unknown[][] = [];
    const fake = {
      log: (...a: unknown[]) => void printed.push(a),
      info: (...a: unknown[]) => void printed.push(a),
      warn: (...a: unknown[]) => void printed.push(a),
      error: (...a: unknown[]) => void printed.push(a),
      debug: (...a: unknown[]) => void printed.push(a),
    };
    const lines: string[] = [];
    const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
    routeSignalConsole(log, fake);
    routeSignalConsole(log, fake); // once only
    const session = { currentRatchet: { rootKey: Buffer.from('root-secret'), ephemeralKeyPair: { privKey: Buffer.from('PRIVATE-KEY-BYTES') } } };
    fake.info('Closing session:', session);
    fake.info('Opening session:', session);
    fake.warn('Session already closed', session);
    fake.error('Session error:Error: Bad MAC', 'stack…');
    fake.log('Scan the QR code');
    expect(printed).toEqual([['Scan the QR code']]);
    expect(lines).toHaveLength(4);
    expect(lines.join('')).not.toMatch(/PRIVATE-KEY|root-secret|privKey/);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 20, component: 'signal', msg: 'Closing session:' });
  });
});
