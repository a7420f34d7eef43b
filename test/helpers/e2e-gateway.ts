import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestDatabase } from './databases.js';

/**
 * The environment of a gateway process on the test WhatsApp server: the real Baileys driver, no
 * pacing between sends, logs at info. `extra` adds to it or overrides it.
 */
export function baileysGatewayEnv(database: Pick<TestDatabase, 'dataDir' | 'url'>, webSocketUrl: string, secret: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATA_DIR: database.dataDir,
    DATABASE_URL: database.url,
    MESSAGEAPI_SECRET: secret,
    WHATSAPP_DRIVER: 'baileys',
    WHATSAPP_WS_URL: webSocketUrl,
    WHATSAPP_PACING_MIN_MS: '0',
    WHATSAPP_PACING_MAX_MS: '0',
    LOG_LEVEL: 'info',
    NODE_ENV: 'test',
    ...extra,
  };
}

/** A webhook receiver on loopback: answers 200 and keeps every JSON body it gets, in order. */
export async function webhookReceiver(): Promise<{ url: string; bodies: Array<Record<string, unknown>>; close(): Promise<void> }> {
  const bodies: Array<Record<string, unknown>> = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      bodies.push(JSON.parse(body) as Record<string, unknown>);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    bodies,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** After the phone scanned the QR: waits for the session to say connected, 20 s at most. */
export async function waitUntilConnected(state: () => Promise<string>): Promise<void> {
  for (const deadline = Date.now() + 20_000; (await state()) !== 'connected'; ) {
    if (Date.now() > deadline) throw new Error('the scanned number did not connect in 20 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
