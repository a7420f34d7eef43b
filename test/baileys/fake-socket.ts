import { EventEmitter } from 'node:events';
import { Boom } from '@hapi/boom';
import { initAuthCreds, proto, type AuthenticationCreds, type AuthenticationState, type BaileysEventMap, type GroupMetadata, type WAMediaUploadFunction } from 'baileys';
import type { SocketFactory, SocketLike, SocketOptions } from '../../src/whatsapp/baileys/socket-factory.js';

export interface Relayed {
  jid: string;
  messageId: string;
  message: proto.IMessage;
}

/**
 * A stand-in for a Baileys socket: the test decides when it opens, shows a QR or closes (with the
 * Boom errors Baileys closes with), and it records what was relayed.
 */
export class FakeSocket implements SocketLike {
  private readonly emitter = new EventEmitter();
  readonly relayed: Relayed[] = [];
  ended = false;
  loggedOut = false;
  groups: Record<string, GroupMetadata> = {};
  notOnWhatsApp = new Set<string>();
  onWhatsAppCalls = 0;
  relayError: Error | undefined;
  lids = new Map<string, string>();
  /** The server's answer to each relayed message: an ack (the default), an ack with an error, or nothing. */
  ackMode: 'ack' | 'none' | { error: string } = 'ack';
  readonly ws = new EventEmitter();

  ev = {
    on: <E extends keyof BaileysEventMap>(event: E, listener: (arg: BaileysEventMap[E]) => void) => {
      this.emitter.on(event, listener);
    },
  };

  constructor(readonly options: SocketOptions) {}

  get auth(): AuthenticationState {
    return this.options.auth;
  }

  emit<E extends keyof BaileysEventMap>(event: E, arg: BaileysEventMap[E]): void {
    this.emitter.emit(event, arg);
  }

  qr(value = `2@qr-${Math.random().toString(36).slice(2)}`): void {
    this.emit('connection.update', { qr: value });
  }

  open(): void {
    this.emit('connection.update', { connection: 'open' });
  }

  /** The phone scanned the QR: Baileys stores the identity, then WhatsApp asks for a restart. */
  pairSuccess(phone = '15550000001'): void {
    this.emit('creds.update', { me: { id: `${phone}:7@s.whatsapp.net`, lid: '99887766:7@lid' }, account: proto.ADVSignedDeviceIdentity.fromObject({ details: Buffer.from('d') }), platform: 'android' });
    this.emit('connection.update', { isNewLogin: true, qr: undefined });
    this.close(DisconnectCodes.restartRequired, 'Stream Errored (restart required)');
  }

  close(statusCode: number, message = 'Connection Failure'): void {
    if (this.ended) return;
    this.ended = true;
    this.emit('connection.update', { connection: 'close', lastDisconnect: { error: new Boom(message, { statusCode }), date: new Date() } });
  }

  end(error: Error | undefined): void {
    if (this.ended) return;
    this.ended = true;
    this.emit('connection.update', { connection: 'close', lastDisconnect: { error, date: new Date() } });
  }

  async logout(): Promise<void> {
    this.loggedOut = true;
    this.close(DisconnectCodes.loggedOut, 'Intentional Logout');
  }

  async requestPairingCode(phoneNumber: string): Promise<string> {
    this.emit('creds.update', { pairingCode: 'ABCD1234', me: { id: `${phoneNumber}@s.whatsapp.net`, name: '~' } });
    return 'ABCD1234';
  }

  async relayMessage(jid: string, message: proto.IMessage, options: { messageId: string }): Promise<string> {
    if (this.relayError) throw this.relayError;
    if (this.ended) throw new Boom('Connection Closed', { statusCode: DisconnectCodes.connectionClosed });
    this.relayed.push({ jid, messageId: options.messageId, message });
    const mode = this.ackMode;
    if (mode !== 'none') {
      setImmediate(() =>
        this.ws.emit('CB:ack,class:message', { tag: 'ack', attrs: { class: 'message', id: options.messageId, from: jid, ...(typeof mode === 'object' ? { error: mode.error } : {}) } }),
      );
    }
    return options.messageId;
  }

  async onWhatsApp(...jids: string[]): Promise<Array<{ jid: string; exists: boolean }>> {
    this.onWhatsAppCalls++;
    return jids.map((jid) => ({ jid, exists: !this.notOnWhatsApp.has(jid.split('@')[0]!) }));
  }

  async groupFetchAllParticipating(): Promise<Record<string, GroupMetadata>> {
    return this.groups;
  }

  waUploadToServer: WAMediaUploadFunction = async (_path, opts) => ({ mediaUrl: `https://mmg.example.test/${opts.mediaType}`, directPath: `/v/${opts.mediaType}` });

  signalRepository = { lidMapping: { getPNForLID: async (lid: string) => this.lids.get(lid) ?? null } };
}

export const DisconnectCodes = { restartRequired: 515, loggedOut: 401, connectionReplaced: 440, connectionClosed: 428, connectionLost: 408, badSession: 500, forbidden: 403, multideviceMismatch: 411 } as const;

/** A socket factory that remembers every socket it made. */
export function fakeSocketFactory() {
  const sockets: FakeSocket[] = [];
  const factory: SocketFactory = (options) => {
    const socket = new FakeSocket(options);
    sockets.push(socket);
    return socket;
  };
  return {
    factory,
    sockets,
    get last(): FakeSocket {
      const s = sockets.at(-1);
      if (!s) throw new Error('no socket was created');
      return s;
    },
    /** Sockets not yet closed: never more than one per session. */
    live: () => sockets.filter((s) => !s.ended),
  };
}

/** Creds of a device a phone has linked. */
export function linkedCreds(phone = '15550000001'): AuthenticationCreds {
  const creds = initAuthCreds();
  creds.me = { id: `${phone}:7@s.whatsapp.net`, lid: '99887766:7@lid' };
  creds.account = proto.ADVSignedDeviceIdentity.fromObject({ details: Buffer.from('details'), accountSignatureKey: Buffer.alloc(32, 1) });
  creds.registered = true;
  return creds;
}
