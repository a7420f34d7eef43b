import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Curve, encodeBigEndian, jidDecode, type BinaryNode, type KeyPair, type proto } from 'baileys';
import { WebSocketServer } from 'ws';
import { handleAdmin } from './admin-http.js';
import type { CompanionSignal } from './companion-signals.js';
import { ContactMessages } from './contact-messages.js';
import { Connection } from './connection.js';
import { initialHistorySync, type OldMessage } from './history-sync.js';
import { childNode, parseQr } from './linking.js';
import { MediaHost } from './media-host.js';
import { Limits, type LimitsChange } from './restrictions.js';
import { SignalDevice, type UploadedBundle } from './signal-device.js';
import { usyncAnswer } from './usync.js';

const SERVER = 's.whatsapp.net';
const now = () => String(Math.floor(Date.now() / 1000));

/** A message a gateway sent, as the recipient's phone got it. */
export interface ReceivedMessage {
  id: string;
  /** The recipient's number as a jid, e.g. `12125551234@s.whatsapp.net` (also when sent to its LID). */
  to: string;
  /** The stanza's `to` as sent (a phone-number jid or a LID); receipts come from it. */
  chat: string;
  /** The sending companion device. */
  from: string;
  /** The stanza's `type`: `text`, `media`, `reaction` or `poll`. */
  type: string;
  /** The stanza's attributes (e.g. `edit`: "1" on an edit, "7" on a sender's delete). */
  attrs?: Record<string, string>;
  /** The attributes of the stanza's `<meta>` node, when it has one (e.g. `polltype`: "creation"). */
  meta?: Record<string, string>;
  /** Decrypted by the recipient's Signal device; undefined if that failed (see `error`). */
  message?: proto.IMessage;
  /** For an image or document: the uploaded file, downloaded and decrypted. */
  media?: Buffer;
  /** Why the recipient could not open it: the server refused it (nack 479) rather than acking. */
  error?: string;
  /** A copy of a message the recipient's chat already shows (same id): acked and dropped unopened. */
  duplicate?: boolean;
  /** The error of the server's refusing ack: 479 (the recipient cannot open it), 463 (a new chat while the sender is timelocked). */
  nack?: string;
}

/** A message a contact's phone sent to a companion device, as it went on the wire. */
export interface InboundStanza {
  id: string;
  /** The companion device it was encrypted to. */
  to: string;
  /** Each `<enc>`'s type: `pkmsg` starts a Signal session, `msg` continues one. */
  types: string[];
}

/** The keys a companion device registered with when it was linked: what it must log in with. */
export interface DeviceKeys {
  noiseKey: Buffer;
  identityKey: Buffer;
}

/** A WhatsApp group: its id (`…@g.us`), name and members' numbers (the first one created it). */
export interface TestGroup {
  id: string;
  subject: string;
  members: string[];
}

export interface WhatsAppTestServerOptions {
  /** Numbers that usync reports as not on WhatsApp. */
  notOnWhatsApp?: string[];
  log?: (line: string) => void;
}

/**
 * A WhatsApp Web server for tests, on loopback: enough of the real protocol for the unmodified
 * Baileys socket to link (QR or pairing code) and get the phone's history sync, log in, send
 * text, media and group messages end-to-end encrypted, receive texts, get delivery and read
 * receipts, list its groups, and be thrown out (conflict, logged out) as WhatsApp does it, and
 * meet WhatsApp's limits (a reach-out timelock, the new-chat cap: restrictions.ts).
 * Each number has a primary phone (its account key signs linked devices); every other number is
 * a contact with a real Signal device that decrypts what it receives. Strict where WhatsApp is (a
 * device logs in only under the keys it registered with; a phone shows one message per chat and
 * id) and, where WhatsApp cannot look, stricter: a message the recipient cannot open is refused.
 *
 * Driven from tests by method, or over HTTP (`adminUrl`, see admin-http.ts).
 */
export class WhatsAppTestServer {
  readonly media = new MediaHost();
  /** What contacts' phones do beyond texts: files, votes, re-uploads (contact-messages.ts). */
  readonly contacts = new ContactMessages(this.media);
  /** Each number's reach-out timelock and new-chat cap (restrictions.ts). */
  readonly limits = new Limits();
  /** The first copy of each message id. */
  readonly received: ReceivedMessage[] = [];
  /** Every copy, in order: a message sent again (after a retry receipt) is here twice. */
  readonly deliveries: ReceivedMessage[] = [];
  private readonly http = http.createServer((req, res) => void handleAdmin(this, req, res));
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly serverStatic: KeyPair = Curve.generateKeyPair();
  private readonly connections = new Set<Connection>();
  private readonly devices = new Map<string, SignalDevice>();
  private readonly linkedDevices = new Map<string, DeviceKeys>();
  private readonly removed = new Map<string, Buffer | null>();
  /** What each phone shows, by chat (the other number, or the group): one message per id. */
  private readonly chats = new Map<string, ReceivedMessage[]>();
  /** Chat states and receipts companions sent to contacts (see companion-signals.ts), in order. */
  readonly signals: CompanionSignal[] = [];
  /** Every message a contact sent to a companion device, in order. */
  readonly inboundStanzas: InboundStanza[] = [];
  private readonly arrivals = new Set<{ matches: (message: ReceivedMessage) => boolean; resolve: (message: ReceivedMessage) => void }>();
  private heldAcks: Array<() => Promise<void>> | undefined;
  private readonly bundles = new Map<string, UploadedBundle>();
  private readonly groups = new Map<string, TestGroup>();
  /** Linked, but not yet sent the phone's history. */
  private readonly awaitingHistory = new Set<string>();
  private readonly histories = new Map<string, OldMessage[]>();
  private inboundCounter = 0;
  private readonly notOnWhatsApp: Set<string>;
  private deviceCounter = 10;
  private port = 0;

  constructor(private readonly options: WhatsAppTestServerOptions = {}) {
    this.notOnWhatsApp = new Set(options.notOnWhatsApp ?? []);
    this.http.on('upgrade', (req, socket, head) => {
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        this.connections.add(new Connection(this, ws, this.serverStatic));
      });
    });
  }

  /** Listens on `port` (0: any free one; a fixed one lets a restarted server take the same URL). */
  async start(port = 0): Promise<void> {
    await this.media.start();
    await new Promise<void>((resolve) => this.http.listen(port, '127.0.0.1', resolve));
    this.port = (this.http.address() as AddressInfo).port;
  }

  /** Closes every connection (clients see the socket drop) and stops listening. */
  async stop(): Promise<void> {
    for (const c of this.connections) c.close();
    for (const ws of this.wss.clients) ws.terminate();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
    await this.media.stop();
  }

  get webSocketUrl(): string {
    return `ws://127.0.0.1:${this.port}/ws/chat`;
  }

  get adminUrl(): string {
    return `http://127.0.0.1:${this.port}/admin`;
  }

  log(line: string): void {
    this.options.log?.(line);
  }

  addGroup(group: TestGroup): void {
    this.groups.set(group.id, group);
  }

  /** The `<group>` node of w:g2 answers: attributes and members, as Baileys' extractGroupMetadata reads them. */
  groupNode(id: string): BinaryNode | undefined {
    const group = this.groups.get(id);
    if (!group) return undefined;
    const created = '1700000000';
    return {
      tag: 'group',
      attrs: { id: group.id.split('@')[0]!, subject: group.subject, s_t: created, creation: created, creator: `${group.members[0]}@${SERVER}`, size: String(group.members.length) },
      content: group.members.map((member, i) => ({ tag: 'participant', attrs: { jid: `${member}@${SERVER}`, ...(i === 0 ? { type: 'superadmin' } : {}) } })),
    };
  }

  /** The groups `phone` is a member of. */
  groupsOf(phone: string): string[] {
    return [...this.groups.values()].filter((g) => g.members.includes(phone)).map((g) => g.id);
  }

  /** The Signal device of a number's phone (device 0), made on first use. */
  device(phone: string): SignalDevice {
    let device = this.devices.get(phone);
    if (!device) {
      device = new SignalDevice(`${phone}@${SERVER}`);
      this.devices.set(phone, device);
    }
    return device;
  }

  /** Every number's LID (WhatsApp's private id for it): its digits behind a 9. */
  lidOf(phone: string): string {
    return `9${phone}`;
  }

  /** The number behind a phone-number jid or a LID jid. */
  phoneOf(jid: string | undefined): string {
    const decoded = jid ? jidDecode(jid) : undefined;
    if (!decoded) return '';
    return decoded.server === 'lid' ? decoded.user.slice(1) : decoded.user;
  }

  nextDeviceId(): number {
    return ++this.deviceCounter;
  }

  /** Companion devices logged in right now, by jid. */
  get loggedInDevices(): string[] {
    return [...this.connections].flatMap((c) => (c.deviceJid && !c.closed ? [c.deviceJid] : []));
  }

  // ── what the phone does ────────────────────────────────────────────────────────────────

  /** `phone` scans a companion's QR: links it and answers the new device's jid. */
  async scanQr(qr: string, phone: string): Promise<string> {
    const scanned = parseQr(qr);
    const connection = [...this.connections].find((c) => c.registration?.refs.includes(scanned.ref) && c.registration.noiseKey.equals(scanned.noiseKey));
    if (!connection) throw new Error('no companion is showing that QR');
    return connection.pairSuccess(phone, this.device(phone).identity, scanned.advSecret);
  }

  /** `phone`'s user typed `code` under "Link with phone number instead". */
  async enterPairingCode(phone: string, code: string): Promise<string> {
    const asked = () => [...this.connections].find((c) => c.registration?.codeHello?.phone === phone);
    // the companion's request may still be on its way when the code is typed
    for (let waited = 0; !asked() && waited < 5_000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
    const connection = asked();
    if (!connection) throw new Error(`no companion asked for a pairing code for ${phone}`);
    return connection.linkWithCode(code.replace(/[^0-9A-Za-z]/g, '').toUpperCase(), this.device(phone).identity);
  }

  /** The phone unlinked a device (or WhatsApp logged it out): `stream:error` 401 now, `failure` 401 at its next login. */
  async logOut(deviceJid: string): Promise<void> {
    this.removeDevice(deviceJid);
    await Promise.all(this.connectionsOf(deviceJid).map((c) => c.streamError({ tag: 'stream:error', attrs: { code: '401' }, content: [{ tag: 'conflict', attrs: { type: 'device_removed' } }] })));
  }

  /** The same device connected elsewhere: `stream:error` conflict (440) to its connections. */
  async replace(deviceJid: string): Promise<void> {
    await Promise.all(this.connectionsOf(deviceJid).map((c) => c.streamError({ tag: 'stream:error', attrs: {}, content: [{ tag: 'conflict', attrs: { type: 'replaced' } }] })));
  }

  /** The recipient's phone got (`delivery`) or opened (`read`) message `id`: a receipt to the sender (from one member, in a group). */
  async receipt(id: string, type: 'delivery' | 'read'): Promise<void> {
    const message = this.received.find((m) => m.id === id);
    if (!message) throw new Error(`no message ${id} was received`);
    const sender = this.connectionsOf(message.from)[0];
    if (!sender) throw new Error(`the sender of ${id} is not connected`);
    // In a group, the receipt names the member whose phone got or read it.
    const member = this.groups.get(message.chat)?.members.find((m) => m !== this.phoneOf(message.from));
    const participant: Record<string, string> = member ? { participant: `${member}@${SERVER}` } : {};
    await sender.send({ tag: 'receipt', attrs: { from: message.chat, ...participant, id, t: now(), ...(type === 'read' ? { type: 'read' } : {}) } });
  }

  /**
   * `from` sends `text` to `phone` (in `group`, when given): each of that number's logged-in
   * companion devices gets it end-to-end encrypted by `from`'s device. Answers the message id.
   */
  async inbound(options: { from: string; phone: string; text: string; pushName?: string; group?: string }): Promise<string> {
    return this.deliver({ ...options, message: { conversation: options.text } });
  }

  /**
   * `from` sends any WhatsApp message to `phone` (in `group`, when given), as `inbound` does a
   * text. `lid`: the stanza names the sender by its LID, alone (`only`: WhatsApp does not say the
   * number) or with the number beside it (`with-number`), as WhatsApp addresses LID chats.
   * `stanzaType` and `attrs` are the stanza's (`media`, `reaction`, `poll`; `edit`…).
   */
  async deliver(options: { from: string; phone: string; message: proto.IMessage; pushName?: string; group?: string; lid?: 'only' | 'with-number'; stanzaType?: string; attrs?: Record<string, string> }): Promise<string> {
    const id = `3A${(++this.inboundCounter).toString(16).toUpperCase().padStart(8, '0')}${Date.now().toString(16).toUpperCase()}`;
    const targets = [...this.connections].filter((c) => c.phone === options.phone && !c.closed);
    if (!targets.length) throw new Error(`no device of ${options.phone} is connected`);
    const sender = this.device(options.from);
    const senderJid = options.lid ? `${this.lidOf(options.from)}@lid` : sender.jid;
    const senderPn: Record<string, string> = options.lid === 'with-number' ? { [options.group ? 'participant_pn' : 'sender_pn']: sender.jid } : {};
    for (const target of targets) {
      const bundle = this.bundles.get(target.deviceJid!);
      if (!bundle) throw new Error(`${target.deviceJid} has uploaded no keys`);
      const encs = options.group ? await sender.encryptGroupFor(target.deviceJid!, bundle, options.group, options.message) : [await sender.encryptFor(target.deviceJid!, bundle, options.message)];
      this.inboundStanzas.push({ id, to: target.deviceJid!, types: encs.map((e) => e.type) });
      const from: Record<string, string> = options.group ? { from: options.group, participant: senderJid } : { from: senderJid };
      await target.send({
        tag: 'message',
        attrs: { ...from, ...senderPn, ...(options.lid ? { addressing_mode: 'lid' } : {}), id, t: now(), type: options.stanzaType ?? 'text', ...(options.pushName ? { notify: options.pushName } : {}), ...options.attrs },
        content: encs.map(({ type, ciphertext }) => ({ tag: 'enc', attrs: { v: '2', type }, content: ciphertext })),
      });
    }
    return id;
  }

  /**
   * The recipient's phone could not decrypt message `id` and asks for it again (a retry receipt,
   * what shows as "Waiting for this message" on the phone): the sender must send it once more.
   */
  async retryReceipt(id: string): Promise<void> {
    const message = this.received.find((m) => m.id === id);
    if (!message) throw new Error(`no message ${id} was received`);
    const sender = this.connectionsOf(message.from)[0];
    if (!sender) throw new Error(`the sender of ${id} is not connected`);
    const recipient = this.device(this.phoneOf(message.to));
    // The phone shows "Waiting for this message" in its place until the copy comes.
    this.forgetShown(message);
    await sender.send({
      tag: 'receipt',
      attrs: { from: message.chat, id, t: now(), type: 'retry' },
      content: [
        { tag: 'retry', attrs: { count: '1', id, t: now(), v: '1' } },
        { tag: 'registration', attrs: {}, content: encodeBigEndian(recipient.creds.registrationId) },
      ],
    });
  }

  // ── what connections report ────────────────────────────────────────────────────────────

  forget(connection: Connection): void {
    this.connections.delete(connection);
  }

  linked(deviceJid: string, keys: DeviceKeys): void {
    this.removed.delete(deviceJid);
    this.linkedDevices.set(deviceJid, keys);
    this.awaitingHistory.add(deviceJid);
  }

  /**
   * A device linked before this server knew of it (creds seeded by a test, as if linked earlier):
   * its jid and the keys it registered with, which it must then log in with.
   */
  registerDevice(deviceJid: string, keys: DeviceKeys): void {
    this.removed.delete(deviceJid);
    this.linkedDevices.set(deviceJid, keys);
  }

  /**
   * Why WhatsApp refuses this login (401), or undefined: a device it never linked, one removed, or
   * one logging in with another Noise key than it registered with.
   */
  loginRefusal(deviceJid: string, noiseKey: Buffer): string | undefined {
    if (this.isRemoved(deviceJid, noiseKey)) return 'removed';
    const keys = this.linkedDevices.get(deviceJid);
    if (!keys) return 'not linked';
    if (!keys.noiseKey.equals(noiseKey)) return 'another noise key than the one it registered with';
    return undefined;
  }

  /** The identity a device uploads its pre-keys under must be the one it registered with (and the phone signed). */
  identityMatches(deviceJid: string, identity: Buffer): boolean {
    return this.linkedDevices.get(deviceJid)?.identityKey.equals(identity) ?? false;
  }

  async preKeysUploaded(deviceJid: string, bundle: UploadedBundle): Promise<void> {
    const known = this.bundles.get(deviceJid);
    if (known && known.identity.equals(bundle.identity)) known.preKeys.push(...bundle.preKeys);
    else this.bundles.set(deviceJid, bundle);
    if (this.awaitingHistory.delete(deviceJid)) await this.sendHistory(deviceJid);
  }

  /** Old messages `phone`'s phone holds: a device linked to it gets them in its first history sync. */
  setHistory(phone: string, messages: OldMessage[]): void {
    this.histories.set(phone, messages);
  }

  /**
   * What the phone does once a new device is linked and can be written to: the initial history
   * sync, end-to-end encrypted from the phone (a peer message from its own number), its payload
   * inline. Baileys then syncs app state and goes online without waiting out its timeout.
   */
  private async sendHistory(deviceJid: string): Promise<void> {
    const connection = this.connectionsOf(deviceJid)[0];
    if (!connection) return;
    const phone = this.phoneOf(deviceJid);
    const notification = initialHistorySync(phone, this.histories.get(phone) ?? []);
    const { type, ciphertext } = await this.device(phone).encryptFor(deviceJid, this.bundles.get(deviceJid)!, notification);
    await connection.send({
      tag: 'message',
      attrs: { from: `${phone}@${SERVER}`, id: `3AHS${Date.now().toString(16).toUpperCase()}`, t: now(), type: 'text', category: 'peer' },
      content: [{ tag: 'enc', attrs: { v: '2', type }, content: ciphertext }],
    });
  }

  preKeysLeft(deviceJid: string | undefined): number {
    return (deviceJid && this.bundles.get(deviceJid)?.preKeys.length) || 0;
  }

  removeDevice(deviceJid: string): void {
    this.removed.set(deviceJid, this.linkedDevices.get(deviceJid)?.noiseKey ?? null);
    this.linkedDevices.delete(deviceJid);
  }

  /** Unlinked from the phone, logged out by the server, or logged out by the device itself. */
  wasRemoved(deviceJid: string): boolean {
    return this.removed.has(deviceJid);
  }

  isRemoved(deviceJid: string, noiseKey: Buffer): boolean {
    if (!this.removed.has(deviceJid)) return false;
    const key = this.removed.get(deviceJid);
    return !key || key.equals(noiseKey);
  }

  private connectionsOf(deviceJid: string): Connection[] {
    return [...this.connections].filter((c) => c.deviceJid === deviceJid && !c.closed);
  }

  /**
   * An encrypted message from a companion. As WhatsApp's apps do, the recipient's phone keeps one
   * message per chat and id: a copy of a message its chat already shows (sent again after a crash,
   * under the same id) is acked and dropped unopened. Otherwise the recipient's device opens it:
   * opened, the server acks it; not opened, the server refuses it (an ack with error 479, which
   * Baileys reports as a message in error) instead of pretending it was delivered.
   */
  async messageFrom(connection: Connection, node: BinaryNode): Promise<void> {
    const id = node.attrs.id!;
    const to = node.attrs.to!;
    const from = connection.deviceJid!;
    const group = to.endsWith('@g.us');
    const recipient = this.phoneOf(to);
    const record: ReceivedMessage = { id, to: group ? to : `${recipient}@${SERVER}`, chat: to, from, type: node.attrs.type ?? '', attrs: { ...node.attrs }, meta: childNode(node, 'meta')?.attrs };
    if (this.shownIn(record).some((m) => m.id === id)) {
      record.duplicate = true;
    } else if (!group && this.opensChatWhileTimelocked(this.phoneOf(from), recipient)) {
      record.error = 'refused: the sender is timelocked and has never chatted with the recipient';
      record.nack = '463';
    } else {
      try {
        record.message = group ? await this.openGroupMessage(node, from) : await this.openDirectMessage(node, from, recipient);
        record.media = await this.mediaOf(record.message);
      } catch (error) {
        record.error = error instanceof Error ? error.message : String(error);
        this.log(`message ${id} could not be opened: ${record.error}`);
      }
    }
    if (record.error && !record.nack) record.nack = '479';
    if (!record.error && !record.duplicate) for (const chat of this.chatsOf(record)) chat.push(record);
    if (!this.received.some((m) => m.id === id)) this.received.push(record);
    this.deliveries.push(record);
    for (const arrival of this.arrivals) {
      if (!arrival.matches(record)) continue;
      this.arrivals.delete(arrival);
      arrival.resolve(record);
    }
    const ack = () => connection.send({ tag: 'ack', attrs: { class: 'message', id, from: to, t: now(), ...(record.nack ? { error: record.nack } : {}) } });
    if (this.heldAcks) this.heldAcks.push(ack);
    else await ack();
  }

  /**
   * WhatsApp changes `phone`'s limits (restrictions.ts); with `notify`, it tells the number's
   * connected devices, as it does (a device that is not told learns at its next query or 463).
   */
  async changeLimits(phone: string, change: LimitsChange, notify = true): Promise<void> {
    const notifications = this.limits.change(phone, change);
    if (!notify) return;
    const devices = [...this.connections].filter((c) => c.phone === phone && !c.closed);
    for (const device of devices) for (const node of notifications) await device.send(node);
  }

  /** While timelocked, a number may write only to those it already chats with (a message either way). */
  private opensChatWhileTimelocked(sender: string, recipient: string): boolean {
    if (!this.limits.timelocked(sender)) return false;
    return this.chat(recipient, sender).length === 0 && this.chat(sender, recipient).length === 0;
  }

  /**
   * Resolves with the next message stanza that reaches the server and `matches` (opened or not,
   * before its ack): how a test learns the instant WhatsApp has a message.
   */
  stanzaArrives(matches: (message: ReceivedMessage) => boolean, timeoutMs = 15_000): Promise<ReceivedMessage> {
    return new Promise((resolve, reject) => {
      const arrival = { matches, resolve: (message: ReceivedMessage) => (clearTimeout(timer), resolve(message)) };
      const timer = setTimeout(() => {
        this.arrivals.delete(arrival);
        reject(new Error(`no matching message reached the server in ${timeoutMs} ms`));
      }, timeoutMs);
      this.arrivals.add(arrival);
    });
  }

  /** From now on the server takes messages but does not ack them: senders wait, as on a slow network. */
  holdAcks(): void {
    this.heldAcks ??= [];
  }

  /** Sends the held acks (to the connections still open) and acks at once again. */
  async releaseAcks(): Promise<void> {
    const held = this.heldAcks ?? [];
    this.heldAcks = undefined;
    for (const ack of held) await ack();
  }

  /**
   * What `phone` shows in its chat with `other` (a number, or a group id): the messages it opened,
   * one per id, in the order they came.
   */
  chat(phone: string, other: string): ReceivedMessage[] {
    return [...(this.chats.get(`${phone}|${other}`) ?? [])];
  }

  /** The phones a message is for (a group's members other than its sender), each with its chat. */
  private chatsOf(message: ReceivedMessage): ReceivedMessage[][] {
    const sender = this.phoneOf(message.from);
    const group = this.groups.get(message.chat);
    const keys = group ? group.members.filter((m) => m !== sender).map((m) => `${m}|${group.id}`) : [`${this.phoneOf(message.to)}|${sender}`];
    return keys.map((key) => {
      let chat = this.chats.get(key);
      if (!chat) this.chats.set(key, (chat = []));
      return chat;
    });
  }

  private shownIn(message: ReceivedMessage): ReceivedMessage[] {
    return this.chatsOf(message)[0] ?? [];
  }

  private forgetShown(message: ReceivedMessage): void {
    for (const chat of this.chatsOf(message)) {
      const at = chat.findIndex((m) => m.id === message.id);
      if (at >= 0) chat.splice(at, 1);
    }
  }

  /**
   * `phone` reinstalled WhatsApp: its device has new Signal keys and no sessions, so a message
   * encrypted on a session from before cannot be opened by it.
   */
  reinstall(phone: string): void {
    this.devices.set(phone, new SignalDevice(`${phone}@${SERVER}`));
  }

  private async openDirectMessage(node: BinaryNode, from: string, recipient: string): Promise<proto.IMessage> {
    const copy = this.encryptedCopies(node).find((c) => this.phoneOf(c.jid) === recipient && c.type !== 'skmsg');
    if (!copy) throw new Error('no copy for the recipient');
    return this.device(recipient).decrypt(from, copy.type as 'pkmsg' | 'msg', copy.ciphertext);
  }

  /**
   * A group message: each member's device takes the sender key handed to it (a 1:1 copy holding a
   * sender-key distribution message), then one member opens the group ciphertext with it.
   */
  private async openGroupMessage(node: BinaryNode, from: string): Promise<proto.IMessage> {
    const groupJid = node.attrs.to!;
    const sender = this.phoneOf(from);
    const copies = this.encryptedCopies(node);
    for (const copy of copies) {
      const member = this.phoneOf(copy.jid);
      if (copy.type === 'skmsg' || member === sender) continue;
      const handed = await this.device(member).decrypt(from, copy.type, copy.ciphertext);
      const item = handed.senderKeyDistributionMessage ?? handed.deviceSentMessage?.message?.senderKeyDistributionMessage;
      if (item) await this.device(member).acceptSenderKey(from, item);
    }
    const groupCipher = copies.find((c) => c.type === 'skmsg');
    if (!groupCipher) throw new Error('no group ciphertext');
    const reader = (this.groups.get(groupJid)?.members ?? []).find((m) => m !== sender && this.device(m).hasSenderKey(groupJid, from));
    if (!reader) throw new Error('no member holds the sender key');
    return this.device(reader).decryptGroup(groupJid, from, groupCipher.ciphertext);
  }

  private encryptedCopies(node: BinaryNode): Array<{ jid: string; type: 'pkmsg' | 'msg' | 'skmsg'; ciphertext: Buffer }> {
    const out: Array<{ jid: string; type: 'pkmsg' | 'msg' | 'skmsg'; ciphertext: Buffer }> = [];
    const participants = childNode(node, 'participants');
    const targets = participants && Array.isArray(participants.content) ? participants.content.filter((c) => c.tag === 'to') : [];
    for (const target of targets) {
      const enc = childNode(target, 'enc');
      if (enc?.content instanceof Uint8Array) out.push({ jid: target.attrs.jid!, type: enc.attrs.type as 'pkmsg' | 'msg', ciphertext: Buffer.from(enc.content) });
    }
    const direct = childNode(node, 'enc');
    if (direct?.content instanceof Uint8Array) out.push({ jid: node.attrs.to!, type: direct.attrs.type as 'pkmsg' | 'msg' | 'skmsg', ciphertext: Buffer.from(direct.content) });
    return out;
  }

  private async mediaOf(message: proto.IMessage): Promise<Buffer | undefined> {
    const image = message.imageMessage;
    const document = message.documentMessage ?? message.documentWithCaptionMessage?.message?.documentMessage;
    if (image?.directPath && image.mediaKey) return this.media.open(image.directPath, image.mediaKey, 'image');
    if (document?.directPath && document.mediaKey) return this.media.open(document.directPath, document.mediaKey, 'document');
    return undefined;
  }

  /** Pre-key bundles for `<key><user jid/>…</key>`: each user's phone (device 0). */
  async bundlesFor(key: BinaryNode): Promise<BinaryNode[]> {
    const users = Array.isArray(key.content) ? key.content.filter((c) => c.tag === 'user') : [];
    const out: BinaryNode[] = [];
    for (const user of users) {
      const bundle = await this.device(this.phoneOf(user.attrs.jid)).bundleNode();
      out.push({ ...bundle, attrs: { jid: user.attrs.jid! } });
    }
    return out;
  }

  /** usync: every number is on WhatsApp (unless listed otherwise) with one device, its phone. */
  usyncAnswer(iq: BinaryNode): BinaryNode {
    return usyncAnswer(iq, { phoneOf: (jid) => this.phoneOf(jid), lidOf: (phone) => this.lidOf(phone), exists: (phone) => !this.notOnWhatsApp.has(phone) });
  }
}
