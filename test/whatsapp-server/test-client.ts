import https from 'node:https';
import { readFileSync } from 'node:fs';
import { Boom } from '@hapi/boom';
import makeWASocket, { Browsers, initAuthCreds, type AuthenticationCreds, type SignalDataSet, type SignalDataTypeMap, type WASocket } from 'baileys';
import pino from 'pino';
import { MEDIA_HOST_CA } from './media-host.js';
import type { WhatsAppTestServer } from './server.js';

/**
 * The unmodified Baileys socket as a client of the test server, for tests without the gateway:
 * in-memory auth, a connection that reports its QR, opening and close code, and a linked device.
 */

const logger = pino({ level: process.env.WA_TEST_LOG ?? 'silent' });

export function memoryAuth(creds: AuthenticationCreds = initAuthCreds()) {
  const data = new Map<string, unknown>();
  return {
    creds,
    keys: {
      async get<T extends keyof SignalDataTypeMap>(type: T, ids: string[]) {
        const out: { [id: string]: SignalDataTypeMap[T] } = {};
        for (const id of ids) if (data.has(`${type}:${id}`)) out[id] = data.get(`${type}:${id}`) as SignalDataTypeMap[T];
        return out;
      },
      async set(set: SignalDataSet) {
        for (const [type, values] of Object.entries(set)) for (const [id, value] of Object.entries(values ?? {})) value ? data.set(`${type}:${id}`, value) : data.delete(`${type}:${id}`);
      },
    },
  };
}

export type Auth = ReturnType<typeof memoryAuth>;

export interface Opened {
  socket: WASocket;
  closed: Promise<number | undefined>;
}

export function connect(server: WhatsAppTestServer, auth: Auth, onQr?: (qr: string, socket: WASocket) => void): Promise<Opened> {
  const socket = makeWASocket({
    auth,
    logger,
    browser: Browsers.ubuntu('Test'),
    waWebSocketUrl: server.webSocketUrl,
    markOnlineOnConnect: false,
    emitOwnEvents: false,
    // uploads go to the test media host, whose certificate this agent trusts
    fetchAgent: new https.Agent({ ca: readFileSync(MEDIA_HOST_CA) }),
  });
  socket.ev.on('creds.update', (update) => Object.assign(auth.creds, update));
  let resolveClosed!: (code: number | undefined) => void;
  const closed = new Promise<number | undefined>((resolve) => (resolveClosed = resolve));
  return new Promise((resolve, reject) => {
    socket.ev.on('connection.update', (update) => {
      if (update.qr) onQr?.(update.qr, socket);
      if (update.connection === 'open') resolve({ socket, closed });
      if (update.connection === 'close') {
        const code = (update.lastDisconnect?.error as Boom | undefined)?.output?.statusCode;
        resolveClosed(code);
        reject(Object.assign(new Error(`closed before open: ${code}`), { code }));
      }
    });
  });
}

/** A device linked by QR to `phone`, connected, past its first history sync. */
export async function linkedSocket(server: WhatsAppTestServer, phone: string): Promise<Opened & { auth: Auth }> {
  const auth = memoryAuth();
  await connect(server, auth, (qr) => void server.scanQr(qr, phone)).catch(() => undefined);
  auth.creds.accountSyncCounter = 1;
  return { ...(await connect(server, auth)), auth };
}
