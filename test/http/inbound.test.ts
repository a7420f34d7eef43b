import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_WEBHOOK_EVENTS } from '../../src/core/webhook-events.js';
import { testDialects } from '../helpers/databases.js';
import { sampleOpus, sampleWebp } from '../helpers/media-samples.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { tinyPdf, tinyPng } from '../media/fixtures.js';
import { pruneInboundMedia } from '../../src/core/media-retention.js';
import { connectReceiver, fakeClock, runSchedule } from '../webhooks/helpers.js';
import { receiverPool, TestReceiver } from '../webhooks/receiver.js';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const DAY = 24 * 60 * 60 * 1000;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const dataUrl = (mime: string, b: Buffer) => `data:${mime};base64,${b.toString('base64')}`;

/** Issue 14 through the public surface: the sandbox's arrivals, the events a real receiver gets, the inbox, media links. */
for (const dialect of testDialects()) {
  describe(`inbound messages (${dialect})`, () => {
    let t: TestApp;
    const clock = fakeClock();
    const receivers = receiverPool();
    const receiver = receivers.start;
    const key = (apiKey: string) => ({ 'x-api-key': apiKey });
    const incoming = (apiKey: string, payload: object) => t.inject({ method: 'POST', url: '/api/v1/sandbox/incoming', headers: key(apiKey), payload });
    const get = (apiKey: string, url: string) => t.inject({ method: 'GET', url, headers: key(apiKey) });
    const allEvents = (apiKey: string) => t.inject({ method: 'PATCH', url: '/api/v1/settings', headers: key(apiKey), payload: { webhookEvents: ALL_WEBHOOK_EVENTS } });

    beforeAll(async () => {
      t = await startTestApp(dialect, {
        env: { ALLOW_PRIVATE_URLS: 'true', PUBLIC_URL: 'https://gateway.example.com', INBOUND_MEDIA_MAX_BYTES: '4096', INBOUND_MEDIA_INLINE_MAX_BYTES: '2048' },
        clock: clock.read,
      });
    });
    afterAll(async () => {
      await t.close();
      await receivers.close();
    });

    it('turns every kind the sandbox receives into message.received with its own fields, signed and verified', async () => {
      const r = await receiver();
      const { apiKey } = await t.createAccount('unlimited');
      await connectReceiver(t, apiKey, r);
      const png = tinyPng();
      const opus = sampleOpus(4);
      const webp = sampleWebp();
      const pdf = tinyPdf();
      const arrivals: Array<[string, object]> = [
        ['text', { from: '12125559876', text: 'hello', pushName: 'Ann' }],
        ['image', { from: '12125559876', type: 'image', media: dataUrl('image/png', png), caption: 'a dot' }],
        ['voice', { from: '12125559876', type: 'voice', media: opus.toString('base64'), mimetype: 'audio/ogg; codecs=opus', durationSeconds: 4 }],
        ['document', { from: '12125559876', type: 'document', media: dataUrl('application/pdf', pdf), fileName: 'report.pdf', caption: 'the report' }],
        ['sticker', { from: '12125559876', type: 'sticker', media: dataUrl('image/webp', webp) }],
        ['video', { from: '12125559876', type: 'video', media: dataUrl('video/mp4', Buffer.from('not really a video')), gif: true, durationSeconds: 2 }],
        ['location', { from: '12125559876', type: 'location', latitude: 40.7, longitude: -74, name: 'Office' }],
        ['contact', { from: '12125559876', type: 'contacts', contacts: [{ name: 'Bob', phones: ['+1 212 555 0100'] }] }],
        ['poll', { from: '12125559876', type: 'poll', poll: { question: 'Lunch?', options: ['Pizza', 'Sushi'] } }],
        ['group', { from: '12125559877', text: 'to the group', groupId: '120363012345678901@g.us', mentions: ['12125559876'] }],
      ];
      const ids: Record<string, { id: string; messageId: string }> = {};
      for (const [name, payload] of arrivals) {
        const res = await incoming(apiKey, payload);
        expect(res.statusCode, `${name}: ${res.body}`).toBe(200);
        ids[name] = res.json();
      }
      await expect.poll(() => r.events().length, { timeout: 10_000 }).toBe(arrivals.length);
      expect(r.received.every((x) => x.verified)).toBe(true);
      const byId = new Map(r.events().map((e) => [e.body.message.id, e.body.message]));
      const event = (name: string) => byId.get(ids[name]!.id)!;

      expect(event('text')).toEqual({
        id: ids.text!.id,
        messageId: ids.text!.messageId,
        from: '12125559876',
        fromLid: null,
        pushName: 'Ann',
        type: 'text',
        text: 'hello',
        isGroup: false,
        groupId: null,
        participant: null,
        timestamp: expect.stringMatching(ISO),
        quoted: null,
        mentions: [],
      });
      expect(event('image')).toMatchObject({ type: 'image', text: 'a dot', caption: 'a dot', media: { mimetype: 'image/png', size: png.length, sha256: sha(png), fileName: null } });
      expect(event('image').media.url).toMatch(/^https:\/\/gateway\.example\.com\/media\/med_\w+\?expires=\d+&sig=[0-9a-f]{64}$/);
      expect(event('image').media.urlExpiresAt).toMatch(ISO);
      expect(event('voice')).toMatchObject({ type: 'audio', voice: true, durationSeconds: 4, media: { mimetype: 'audio/ogg; codecs=opus', size: opus.length, sha256: sha(opus) } });
      expect(event('document')).toMatchObject({ type: 'document', caption: 'the report', fileName: 'report.pdf', media: { fileName: 'report.pdf', sha256: sha(pdf) } });
      expect(event('sticker')).toMatchObject({ type: 'sticker', media: { mimetype: 'image/webp', sha256: sha(webp) } });
      expect(event('video')).toMatchObject({ type: 'video', gif: true, durationSeconds: 2 });
      expect(event('location')).toMatchObject({ type: 'location', location: { latitude: 40.7, longitude: -74, name: 'Office' } });
      expect(event('contact')).toMatchObject({ type: 'contact', contacts: [{ name: 'Bob', phones: ['+1 212 555 0100'] }] });
      expect(event('poll')).toMatchObject({ type: 'poll', poll: { question: 'Lunch?', options: ['Pizza', 'Sushi'], multipleAnswers: false } });
      expect(event('group')).toMatchObject({ isGroup: true, groupId: '120363012345678901@g.us', participant: '12125559877', mentions: ['12125559876'] });

      // The signed link serves the very bytes, without a key.
      const url = new URL(event('image').media.url);
      const file = await t.inject({ method: 'GET', url: url.pathname + url.search });
      expect(file.statusCode).toBe(200);
      expect(file.headers['content-type']).toBe('image/png');
      expect(sha(file.rawPayload)).toBe(sha(png));
      // A document is a download, never a page of this site.
      const doc = new URL(event('document').media.url);
      const docFile = await t.inject({ method: 'GET', url: doc.pathname + doc.search });
      expect(docFile.statusCode).toBe(200);
      expect(docFile.headers['content-disposition']).toMatch(/^attachment; filename="report.pdf"/);
      expect(docFile.headers['content-security-policy']).toMatch(/sandbox/);
      expect(sha(docFile.rawPayload)).toBe(sha(pdf));
    });

    it('raises reactions, edits, deletes and votes on our polls, once the account opts in', async () => {
      const r = await receiver();
      const { apiKey } = await t.createAccount('unlimited');
      await connectReceiver(t, apiKey, r);
      expect((await allEvents(apiKey)).statusCode).toBe(200);
      const poll = (await t.inject({ method: 'POST', url: '/api/v1/send/poll', headers: key(apiKey), payload: { recipient: '12125559876', question: 'Lunch?', options: ['Pizza', 'Sushi', 'Salad'], multipleAnswers: true } })).json();
      expect(poll.status).toBe('sent');
      const hi = (await incoming(apiKey, { from: '12125559876', text: 'hi', pushName: 'Ann' })).json();
      const reply = (await incoming(apiKey, { from: '12125559876', text: 'a reply', replyTo: poll.messageId })).json();
      expect((await incoming(apiKey, { from: '12125559876', type: 'reaction', messageId: poll.messageId, emoji: '👍' })).statusCode).toBe(200);
      expect((await incoming(apiKey, { from: '12125559876', type: 'reaction', messageId: poll.messageId, emoji: '' })).statusCode).toBe(200);
      expect((await incoming(apiKey, { from: '12125559876', type: 'edit', messageId: hi.messageId, text: 'hi, edited' })).statusCode).toBe(200);
      expect((await incoming(apiKey, { from: '12125559876', type: 'revoke', messageId: reply.id })).statusCode).toBe(200);
      expect((await incoming(apiKey, { from: '12125559876', type: 'poll_vote', messageId: poll.messageId, options: ['Pizza', 'Salad'] })).statusCode).toBe(200);
      // A vote on a poll the account did not send is not reported.
      const theirPoll = (await incoming(apiKey, { from: '12125559876', type: 'poll', poll: { question: 'Q?', options: ['a', 'b'] } })).json();
      expect((await incoming(apiKey, { from: '12125559876', type: 'poll_vote', messageId: theirPoll.messageId, options: ['a'] })).statusCode).toBe(200);

      await expect.poll(() => r.events().filter((e) => e.body.event === 'poll.vote').length, { timeout: 10_000 }).toBe(1);
      const of = (name: string) => r.events().filter((e) => e.body.event === name).map((e) => e.body);
      expect(of('message.received').find((e) => e.message.id === reply.id)!.message.quoted).toEqual({ id: expect.any(String), messageId: poll.messageId, type: 'poll', text: null });
      // An account's webhooks go out several at a time, so they may arrive in either order.
      expect(of('message.reaction').map((e) => e.reaction).sort((a, b) => Number(a.removed) - Number(b.removed))).toEqual([
        expect.objectContaining({ messageId: poll.messageId, emoji: '👍', removed: false, from: '12125559876', isGroup: false }),
        expect.objectContaining({ messageId: poll.messageId, emoji: '', removed: true }),
      ]);
      expect(of('message.edited')).toEqual([expect.objectContaining({ message: expect.objectContaining({ id: hi.id, messageId: hi.messageId, text: 'hi, edited', timestamp: expect.stringMatching(ISO) }) })]);
      expect(of('message.revoked')).toEqual([expect.objectContaining({ message: expect.objectContaining({ id: reply.id, messageId: reply.messageId }) })]);
      expect(of('poll.vote').map((e) => e.vote)).toEqual([expect.objectContaining({ messageId: poll.messageId, question: 'Lunch?', selectedOptions: ['Pizza', 'Salad'], from: '12125559876' })]);

      // The inbox shows the edit and the delete.
      const edited = (await get(apiKey, `/api/v1/messages/${hi.messageId}`)).json();
      expect(edited).toMatchObject({ direction: 'in', status: 'received', content: { text: 'hi, edited' }, editedAt: expect.stringMatching(ISO) });
      expect((await get(apiKey, `/api/v1/messages/${reply.messageId}`)).json().revokedAt).toMatch(ISO);
    });

    it('keeps the reference four as the default: new events reach neither the webhook nor the event log until chosen', async () => {
      const r = await receiver();
      const { apiKey } = await t.createAccount('unlimited');
      await connectReceiver(t, apiKey, r);
      const settings = (await get(apiKey, '/api/v1/settings')).json();
      expect(settings.webhookEvents).toEqual(['message.received', 'message.sent', 'message.failed', 'session.disconnected']);
      const sent = (await t.inject({ method: 'POST', url: '/api/v1/send', headers: key(apiKey), payload: { recipient: '12125551234', text: 'hi' } })).json();
      await t.inject({ method: 'POST', url: '/api/v1/sandbox/receipt', headers: key(apiKey), payload: { messageId: sent.messageId, status: 'delivered' } });
      await incoming(apiKey, { from: '12125551234', type: 'reaction', messageId: sent.messageId, emoji: '❤️' });
      await incoming(apiKey, { from: '12125551234', text: 'marker' });
      await expect.poll(() => r.events().some((e) => e.body.message?.text === 'marker'), { timeout: 10_000 }).toBe(true);
      expect(r.events().map((e) => e.body.event).sort()).toEqual(['message.received', 'message.sent']);
      const pulled = (await get(apiKey, '/api/v1/events?after=0&limit=100')).json();
      expect(pulled.events.map((e: { event: string }) => e.event).sort()).toEqual(['message.received', 'message.sent']);

      // Unknown events are refused by name.
      const wrong = await t.inject({ method: 'PATCH', url: '/api/v1/settings', headers: key(apiKey), payload: { webhookEvents: ['message.sent', 'message.exploded'] } });
      expect(wrong.statusCode).toBe(400);
      expect(wrong.json()).toMatchObject({ success: false, code: 'invalid_parameter' });
      // Only the receipts now, then a read receipt: exactly message.read arrives (and the log says so).
      const only = await t.inject({ method: 'PATCH', url: '/api/v1/settings', headers: key(apiKey), payload: { webhookEvents: ['message.read', 'message.delivered'] } });
      expect(only.json().webhookEvents).toEqual(['message.delivered', 'message.read']);
      await t.inject({ method: 'POST', url: '/api/v1/sandbox/receipt', headers: key(apiKey), payload: { messageId: sent.messageId, status: 'read' } });
      await expect.poll(() => r.events().filter((e) => e.body.event === 'message.read').length, { timeout: 10_000 }).toBe(1);
      expect(r.events().find((e) => e.body.event === 'message.read')!.body.message).toEqual({ id: sent.messageId, recipient: '12125551234', type: 'text', status: 'read', timestamp: expect.stringMatching(ISO) });
      const pulledAgain = (await get(apiKey, '/api/v1/events?after=0&limit=100')).json();
      expect(pulledAgain.events.map((e: { event: string }) => e.event)).toContain('message.read');
    });

    it('fills deliveredAt, readAt and playedAt from receipts, raising each event once', async () => {
      const r = await receiver();
      const { apiKey } = await t.createAccount('unlimited');
      await connectReceiver(t, apiKey, r);
      await allEvents(apiKey);
      const id = (await t.inject({ method: 'POST', url: '/api/v1/send', headers: key(apiKey), payload: { recipient: '12125551234', text: 'x' } })).json().messageId;
      const receipt = (status: string) => t.inject({ method: 'POST', url: '/api/v1/sandbox/receipt', headers: key(apiKey), payload: { messageId: id, status } });
      expect((await receipt('delivered')).statusCode).toBe(200);
      expect((await receipt('delivered')).statusCode).toBe(200);
      expect((await receipt('played')).statusCode).toBe(200);
      await expect.poll(() => r.events().filter((e) => e.body.event === 'message.played').length, { timeout: 10_000 }).toBe(1);
      expect(r.events().filter((e) => e.body.event === 'message.delivered')).toHaveLength(1);
      const view = (await get(apiKey, `/api/v1/messages/${id}`)).json();
      expect(view).toMatchObject({ deliveredAt: expect.stringMatching(ISO), readAt: expect.stringMatching(ISO), playedAt: expect.stringMatching(ISO) });
      // Unknown and foreign ids are 404s.
      const other = await t.createAccount('unlimited');
      const foreign = await t.inject({ method: 'POST', url: '/api/v1/sandbox/receipt', headers: key(other.apiKey), payload: { messageId: id, status: 'read' } });
      expect(foreign.statusCode).toBe(404);
    });

    it('keeps an inbox on every plan: direction, chat filter, paging, look-up, and received messages as reply and reaction targets', async () => {
      const { apiKey } = await t.createAccount('trial');
      const sent = (await t.inject({ method: 'POST', url: '/api/v1/send', headers: key(apiKey), payload: { recipient: '12125551234', text: 'out 1' } })).json();
      const a1 = (await incoming(apiKey, { from: '12125551234', text: 'in 1' })).json();
      const b1 = (await incoming(apiKey, { from: '12125557777', text: 'in 2' })).json();
      const a2 = (await incoming(apiKey, { from: '12125551234', text: 'in 3' })).json();

      const list = async (query: string) => {
        const res = await get(apiKey, `/api/v1/messages?${query}`);
        expect(res.statusCode, res.body).toBe(200);
        return res.json();
      };
      expect((await list('')).messages.map((m: { messageId: string }) => m.messageId)).toEqual([sent.messageId]);
      expect((await list('direction=in')).messages.map((m: { messageId: string }) => m.messageId)).toEqual([a2.messageId, b1.messageId, a1.messageId]);
      expect((await list('direction=all')).messages.map((m: { messageId: string }) => m.messageId)).toEqual([a2.messageId, b1.messageId, a1.messageId, sent.messageId]);
      expect((await list('direction=all&chat=%2B1%20212%20555%201234')).messages.map((m: { messageId: string }) => m.messageId)).toEqual([a2.messageId, a1.messageId, sent.messageId]);
      const first = await list('direction=in&limit=2');
      expect(first.messages).toHaveLength(2);
      const second = await list(`direction=in&limit=2&cursor=${first.nextCursor}`);
      expect(second.messages.map((m: { messageId: string }) => m.messageId)).toEqual([a1.messageId]);
      expect(second.nextCursor).toBeNull();
      const sideways = await get(apiKey, '/api/v1/messages?direction=sideways');
      expect(sideways.statusCode).toBe(400);
      expect(sideways.json()).toMatchObject({ success: false, code: 'invalid_parameter' });

      const one = (await get(apiKey, `/api/v1/messages/${a1.messageId}`)).json();
      expect(one).toMatchObject({ success: true, messageId: a1.messageId, direction: 'in', status: 'received', recipient: '12125551234', from: '12125551234', waMessageId: a1.id, type: 'text', content: { text: 'in 1' } });

      // Issue 13's leftover: a received message can be quoted and reacted to.
      const replied = await t.inject({ method: 'POST', url: '/api/v1/send', headers: key(apiKey), payload: { recipient: '12125551234', text: 'answer', replyTo: a1.messageId } });
      expect(replied.statusCode, replied.body).toBe(200);
      expect((await get(apiKey, `/api/v1/messages/${replied.json().messageId}`)).json().content.replyTo).toEqual({ messageId: a1.messageId, type: 'text', text: 'in 1' });
      const reacted = await t.inject({ method: 'POST', url: '/api/v1/send/reaction', headers: key(apiKey), payload: { messageId: a1.messageId, emoji: '👍' } });
      expect(reacted.statusCode, reacted.body).toBe(200);
      expect((await get(apiKey, `/api/v1/messages/${reacted.json().messageId}`)).json()).toMatchObject({ recipient: '12125551234', content: { reaction: { messageId: a1.messageId, emoji: '👍' } } });
      const sends = (await get(apiKey, '/api/v1/sandbox/sends?limit=100')).json().sends;
      expect(sends.at(-1)).toMatchObject({ recipient: '12125551234', type: 'reaction' });
      // …but not edited or deleted: only its sender can.
      const edit = await t.inject({ method: 'PATCH', url: `/api/v1/messages/${a1.messageId}`, headers: key(apiKey), payload: { text: 'changed' } });
      expect(edit.statusCode).toBe(400);
      // A reply quotes a message of the same chat.
      const elsewhere = await t.inject({ method: 'POST', url: '/api/v1/send', headers: key(apiKey), payload: { recipient: '12125551234', text: 'x', replyTo: b1.messageId } });
      expect(elsewhere.statusCode).toBe(400);
      // Another account's received message is unknown to this one.
      const other = await t.createAccount('trial');
      expect((await get(other.apiKey, `/api/v1/messages/${a1.messageId}`)).statusCode).toBe(404);
      const foreignReply = await t.inject({ method: 'POST', url: '/api/v1/send/reaction', headers: key(other.apiKey), payload: { messageId: a1.messageId, emoji: '👍' } });
      expect(foreignReply.statusCode).toBe(404);
      expect((await get(other.apiKey, '/api/v1/messages?direction=all')).json().messages).toEqual([]);
    });

    it('serves media by key (own account only) and by signed link until it expires; a forged or altered link is refused', async () => {
      const { apiKey } = await t.createAccount('trial');
      const png = tinyPng();
      const arrived = (await incoming(apiKey, { from: '12125559876', type: 'image', media: dataUrl('image/png', png) })).json();
      const message = (await get(apiKey, `/api/v1/messages/${arrived.messageId}`)).json();
      const mediaId = message.content.media.id;
      expect(message.content.media).toEqual({ id: expect.stringMatching(/^med_/), mimetype: 'image/png', size: png.length, sha256: sha(png) });

      const byKey = await get(apiKey, `/api/v1/media/${mediaId}`);
      expect(byKey.statusCode).toBe(200);
      expect(sha(byKey.rawPayload)).toBe(sha(png));
      const other = await t.createAccount('trial');
      expect((await get(other.apiKey, `/api/v1/media/${mediaId}`)).statusCode).toBe(404);
      expect((await t.inject({ method: 'GET', url: `/api/v1/media/${mediaId}` })).statusCode).toBe(401);

      const links = t.runtime.inbound.links;
      const valid = new URL(links.url('https://gateway.example.com', mediaId, clock.now + 60_000));
      expect((await t.inject({ method: 'GET', url: valid.pathname + valid.search })).statusCode).toBe(200);
      const noSig = await t.inject({ method: 'GET', url: `/media/${mediaId}` });
      expect(noSig.statusCode).toBe(403);
      expect(noSig.json()).toMatchObject({ success: false, code: 'forbidden' });
      const altered = valid.search.replace(/expires=(\d+)/, (_, n) => `expires=${Number(n) + 3600}`);
      expect((await t.inject({ method: 'GET', url: valid.pathname + altered })).statusCode).toBe(403);
      const forged = valid.search.replace(/sig=[0-9a-f]+/, `sig=${'0'.repeat(64)}`);
      expect((await t.inject({ method: 'GET', url: valid.pathname + forged })).statusCode).toBe(403);
      // Another file's signature does not open this one.
      const second = (await incoming(apiKey, { from: '12125559876', type: 'image', media: dataUrl('image/png', png) })).json();
      const secondId = (await get(apiKey, `/api/v1/messages/${second.messageId}`)).json().content.media.id;
      expect((await t.inject({ method: 'GET', url: `/media/${secondId}${valid.search}` })).statusCode).toBe(403);
      // After expiry (the clock moves, nothing sleeps).
      const saved = clock.now;
      clock.now += 61_000;
      try {
        const expired = await t.inject({ method: 'GET', url: valid.pathname + valid.search });
        expect(expired.statusCode).toBe(403);
        expect(expired.json().error).toMatch(/expired/);
      } finally {
        clock.now = saved;
      }
    });

    it('inlines small files when the account asks (up to the server cap) and refuses to keep files above INBOUND_MEDIA_MAX_BYTES', async () => {
      const r = await receiver();
      const { apiKey } = await t.createAccount('unlimited');
      await connectReceiver(t, apiKey, r);
      const tooHigh = await t.inject({ method: 'PATCH', url: '/api/v1/settings', headers: key(apiKey), payload: { inlineMediaMaxBytes: 4096 } });
      expect(tooHigh.statusCode).toBe(400);
      expect((await t.inject({ method: 'PATCH', url: '/api/v1/settings', headers: key(apiKey), payload: { inlineMediaMaxBytes: 1024 } })).json().inlineMediaMaxBytes).toBe(1024);
      const small = Buffer.alloc(600, 7);
      const medium = Buffer.alloc(1500, 8);
      const large = Buffer.alloc(5000, 9);
      const s = (await incoming(apiKey, { from: '12125559876', type: 'document', media: dataUrl('application/octet-stream', small), fileName: 's.bin' })).json();
      const m = (await incoming(apiKey, { from: '12125559876', type: 'document', media: dataUrl('application/octet-stream', medium), fileName: 'm.bin' })).json();
      const l = (await incoming(apiKey, { from: '12125559876', type: 'document', media: dataUrl('application/octet-stream', large), fileName: 'l.bin' })).json();
      await expect.poll(() => r.events().length, { timeout: 10_000 }).toBe(3);
      const byId = new Map(r.events().map((e) => [e.body.message.id, e.body.message]));
      expect(Buffer.from(byId.get(s.id).media.base64, 'base64').equals(small)).toBe(true);
      expect(byId.get(m.id).media.base64).toBeUndefined();
      expect(byId.get(m.id).media.size).toBe(1500);
      expect(byId.get(l.id)).toMatchObject({ media: null, mediaError: expect.stringMatching(/INBOUND_MEDIA_MAX_BYTES/), fileName: 'l.bin' });
    });

    it('refuses malformed arrivals with the error shape of SPEC §4', async () => {
      const { apiKey } = await t.createAccount('trial');
      const cases: Array<[object, number, string]> = [
        [{ from: '12125559876', type: 'image' }, 400, 'missing_parameter'],
        [{ from: '12125559876', type: 'image', media: 'not base64 at all!' , mimetype: 'image/png' }, 400, 'invalid_parameter'],
        [{ from: '12125559876', type: 'image', media: 'AAAA' }, 400, 'missing_parameter'],
        [{ from: '12125559876', type: 'location', latitude: 1 }, 400, 'missing_parameter'],
        [{ from: '12125559876', type: 'reaction', messageId: 'nope', emoji: '👍' }, 404, 'not_found'],
        [{ from: '12125559876', type: 'edit', text: 'x' }, 400, 'missing_parameter'],
        [{ from: '12125559876', type: 'teleport' }, 400, 'invalid_parameter'],
        [{ from: '120363012345678901@g.us', text: 'x' }, 400, 'invalid_parameter'],
      ];
      for (const [payload, status, code] of cases) {
        const res = await incoming(apiKey, payload);
        expect(res.statusCode, `${JSON.stringify(payload)}: ${res.body}`).toBe(status);
        expect(res.json()).toMatchObject({ success: false, code, error: expect.any(String) });
      }
    });
  });
}

for (const dialect of testDialects()) {
  describe(`inbound media retention (${dialect})`, () => {
    let t: TestApp;
    const clock = fakeClock();
    let r: TestReceiver;
    beforeAll(async () => {
      // No jitter: the retry schedule's attempts fall at 17 h 35 and 27 h 35, either side of the receiver's day down.
      t = await startTestApp(dialect, { env: { ALLOW_PRIVATE_URLS: 'true', MEDIA_RETENTION_DAYS: '0.5' }, clock: clock.read, random: () => 0.5 });
      r = await TestReceiver.start();
    });
    afterAll(async () => {
      await t.close();
      await r.close();
    });

    it('keeps a file past MEDIA_RETENTION_DAYS while its event waits for a receiver that is down for a day, and its link still works when it arrives', async () => {
      const start = clock.now;
      // Down for a day after the message arrives, then back.
      r.answer = () => ({ status: clock.now - start >= DAY ? 200 : 503 });
      const { id: accountId, apiKey } = await t.createAccount('unlimited');
      await connectReceiver(t, apiKey, r);
      const { apiKey: quietKey } = await t.createAccount('trial');
      const png = tinyPng();
      const headers = { 'x-api-key': apiKey };
      const arrived = (await t.inject({ method: 'POST', url: '/api/v1/sandbox/incoming', headers, payload: { from: '12125559876', type: 'image', media: dataUrl('image/png', png) } })).json();
      const unreferenced = (await t.inject({ method: 'POST', url: '/api/v1/sandbox/incoming', headers: { 'x-api-key': quietKey }, payload: { from: '12125559876', type: 'image', media: dataUrl('image/png', png) } })).json();
      const mediaOf = async (k: string, id: string) => (await t.inject({ method: 'GET', url: `/api/v1/messages/${id}`, headers: { 'x-api-key': k } })).json().content.media.id as string;
      const keptId = await mediaOf(apiKey, arrived.messageId);
      const goneId = await mediaOf(quietKey, unreferenced.messageId);

      // The receiver fails every attempt for 13 hours (the file is then past its 12 h retention).
      await runSchedule(t, clock, accountId, async () => clock.now - start >= 13 * 60 * 60 * 1000);
      expect(r.received.length).toBeGreaterThan(3);
      await pruneInboundMedia(t.runtime.inbound, clock.now);
      expect((await t.inject({ method: 'GET', url: `/api/v1/media/${goneId}`, headers: { 'x-api-key': quietKey } })).statusCode).toBe(404);
      expect((await t.inject({ method: 'GET', url: `/api/v1/media/${keptId}`, headers })).statusCode).toBe(200);

      // It comes back a day after the message arrived: the event arrives, and its link serves the file.
      const deliveryStatus = async () => (await t.runtime.store.db.selectFrom('webhook_deliveries').select('status').where('media_id', '=', keptId).executeTakeFirst())?.status;
      await runSchedule(t, clock, accountId, async () => (await deliveryStatus()) !== 'pending');
      expect(await deliveryStatus()).toBe('delivered');
      expect(clock.now - start).toBeGreaterThan(DAY);
      const link = new URL(r.events().find((e) => e.body.message?.id === arrived.id)!.body.message.media.url);
      const fetched = await t.inject({ method: 'GET', url: link.pathname + link.search });
      expect(fetched.statusCode).toBe(200);
      expect(sha(fetched.rawPayload)).toBe(sha(png));

      // Delivered: the next housekeeping lets it go.
      await pruneInboundMedia(t.runtime.inbound, clock.now);
      expect((await t.inject({ method: 'GET', url: link.pathname + link.search })).statusCode).toBe(404);
    });

    it('keeps a file past MEDIA_RETENTION_DAYS while its event waits unacknowledged in the pull queue, and lets it go once the consumer acknowledges it', async () => {
      const { apiKey } = await t.createAccount('unlimited');
      const headers = { 'x-api-key': apiKey };
      const png = tinyPng();
      const arrive = async () => (await t.inject({ method: 'POST', url: '/api/v1/sandbox/incoming', headers, payload: { from: '12125559876', type: 'image', media: dataUrl('image/png', png) } })).json();
      const mediaOf = async (id: string) => (await t.inject({ method: 'GET', url: `/api/v1/messages/${id}`, headers })).json().content.media.id as string;
      const media = (id: string) => t.inject({ method: 'GET', url: `/api/v1/media/${id}`, headers });
      const first = await mediaOf((await arrive()).messageId);
      const second = await mediaOf((await arrive()).messageId);

      // No webhook: the events wait in the pull queue, read but not acknowledged, past the retention.
      const page = (await t.inject({ method: 'GET', url: '/api/v1/events?limit=1', headers })).json() as { cursor: number; events: Array<{ body?: unknown }> };
      expect(page.events).toHaveLength(1);
      clock.now += DAY;
      await pruneInboundMedia(t.runtime.inbound, clock.now);
      expect((await media(first)).statusCode).toBe(200);
      expect((await media(second)).statusCode).toBe(200);

      // The consumer acknowledges the first event: its file goes, the second one's stays.
      expect((await t.inject({ method: 'POST', url: '/api/v1/events/ack', headers, payload: { cursor: page.cursor } })).statusCode).toBe(200);
      await pruneInboundMedia(t.runtime.inbound, clock.now);
      expect((await media(first)).statusCode).toBe(404);
      expect((await media(second)).statusCode).toBe(200);

      const rest = (await t.inject({ method: 'GET', url: `/api/v1/events?after=${page.cursor}`, headers })).json() as { cursor: number };
      expect((await t.inject({ method: 'POST', url: '/api/v1/events/ack', headers, payload: { cursor: rest.cursor } })).statusCode).toBe(200);
      await pruneInboundMedia(t.runtime.inbound, clock.now);
      expect((await media(second)).statusCode).toBe(404);
    });
  });
}
