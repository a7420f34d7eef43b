import type { BinaryNode } from 'baileys';
import { childBytes, childNode } from './linking.js';

const SERVER = 's.whatsapp.net';

/** What the server knows of numbers: how a jid maps to one, its LID, and whether it is on WhatsApp. */
export interface Numbers {
  phoneOf(jid: string): string;
  lidOf(phone: string): string;
  exists(phone: string): boolean;
}

/**
 * The answer to a usync query, for the protocols it asks (contact, lid, devices): each number on
 * WhatsApp has one device, its phone; one that is not answers contact `out` and nothing else.
 */
export function usyncAnswer(iq: BinaryNode, numbers: Numbers): BinaryNode {
  const usync = childNode(iq, 'usync')!;
  const query = childNode(usync, 'query');
  const protocols = query && Array.isArray(query.content) ? query.content.map((c) => c.tag) : [];
  const list = childNode(usync, 'list');
  const users = list && Array.isArray(list.content) ? list.content : [];
  const answers: BinaryNode[] = users.map((user) => {
    const contact = childBytes(user, 'contact')?.toString();
    const phone = user.attrs.jid ? numbers.phoneOf(user.attrs.jid) : (contact ?? '').replace(/\D/g, '');
    const exists = numbers.exists(phone);
    const content: BinaryNode[] = [];
    for (const protocol of protocols) {
      if (protocol === 'contact') content.push({ tag: 'contact', attrs: { type: exists ? 'in' : 'out' }, ...(contact ? { content: contact } : {}) });
      if (protocol === 'lid' && exists) content.push({ tag: 'lid', attrs: { val: `${numbers.lidOf(phone)}@lid` } });
      if (protocol === 'devices' && exists) content.push({ tag: 'devices', attrs: {}, content: [{ tag: 'device-list', attrs: {}, content: [{ tag: 'device', attrs: { id: '0' } }] }] });
    }
    return { tag: 'user', attrs: { jid: user.attrs.jid ?? `${phone}@${SERVER}` }, content };
  });
  return { tag: 'usync', attrs: { sid: usync.attrs.sid ?? '', mode: usync.attrs.mode ?? 'query', last: 'true', index: '0' }, content: [{ tag: 'list', attrs: {}, content: answers }] };
}
