import type http from 'node:http';
import { proto } from 'baileys';
import { contactAdmin } from './admin-contact.js';
import type { WhatsAppTestServer } from './server.js';

/**
 * The test phone and the test server's controls over HTTP (JSON in, JSON out): POST /admin/scan
 * {qr, phone}, /admin/pairing-code {phone, code}, /admin/receipt {id, type: delivery|read|retry},
 * /admin/inbound {from, phone, text, pushName?, group?}, /admin/stream-error {jid, kind:
 * conflict|logged_out}, /admin/limits {phone, timelockUntil?: ms|null, cap?: {used, total, cycleEndsAt},
 * notify?: false to change them silently}; GET /admin/messages; the contact's other messages in admin-contact.ts. A call that cannot be done answers 409 with the reason.
 */
export async function handleAdmin(server: WhatsAppTestServer, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const answer = (status: number, body: unknown): void => void res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
  try {
    const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString()) as Record<string, string>) : {};
    switch (`${req.method} ${url.pathname}`) {
      case 'POST /admin/scan':
        return answer(200, { jid: await server.scanQr(body.qr!, body.phone!) });
      case 'POST /admin/pairing-code':
        return answer(200, { jid: await server.enterPairingCode(body.phone!, body.code!) });
      case 'POST /admin/receipt':
        if (body.type === 'retry') await server.retryReceipt(body.id!);
        else await server.receipt(body.id!, body.type === 'read' ? 'read' : 'delivery');
        return answer(200, { ok: true });
      case 'POST /admin/inbound':
        return answer(200, { id: await server.inbound({ from: body.from!, phone: body.phone!, text: body.text!, pushName: body.pushName, group: body.group }) });
      case 'POST /admin/stream-error':
        await (body.kind === 'logged_out' ? server.logOut(body.jid!) : server.replace(body.jid!));
        return answer(200, { ok: true });
      case 'POST /admin/limits': {
        const limits = body as unknown as { phone: string; timelockUntil?: number | null; cap?: { used: number; total: number; cycleEndsAt: number }; notify?: boolean };
        await server.changeLimits(limits.phone, { timelockUntil: limits.timelockUntil, cap: limits.cap }, limits.notify !== false);
        return answer(200, { ok: true });
      }
      case 'GET /admin/messages':
        return answer(200, server.received.map(({ media, message, ...rest }) => ({ ...rest, message: message ? proto.Message.toObject(proto.Message.fromObject(message)) : undefined, mediaBytes: media?.length })));
      default: {
        const contact = req.method === 'POST' ? await contactAdmin(server, url.pathname.replace('/admin/', ''), body) : undefined;
        if (contact !== undefined) return answer(200, contact);
        return answer(404, { error: 'unknown admin call' });
      }
    }
  } catch (error) {
    return answer(409, { error: error instanceof Error ? error.message : String(error) });
  }
}
