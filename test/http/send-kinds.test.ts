import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { sampleMp3, sampleMp4, sampleOpus, sampleWebp, serveFiles } from '../helpers/media-samples.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

for (const dialect of testDialects()) {
  describe(`every kind of message (${dialect})`, () => {
    let t: TestApp;
    let files: Awaited<ReturnType<typeof serveFiles>>;
    let key: string;
    const FILES = { 'clip.mp4': sampleMp4(), 'note.ogg': sampleOpus(3), 'song.mp3': sampleMp3(), 'sticker.webp': sampleWebp() };

    beforeAll(async () => {
      files = await serveFiles(FILES);
      t = await startTestApp(dialect, { env: { ALLOW_PRIVATE_URLS: 'true', MEDIA_MAX_STICKER_BYTES: '200' } });
      key = (await t.createAccount('unlimited')).apiKey;
    });
    afterAll(async () => {
      await t.close();
      await files.close();
    });

    const post = (url: string, payload: unknown, apiKey = key, headers: Record<string, string> = {}) =>
      t.inject({ method: 'POST', url, headers: { 'x-api-key': apiKey, ...headers }, payload: payload as object });
    const message = async (id: string, apiKey = key) => (await t.inject({ method: 'GET', url: `/api/v1/messages/${id}`, headers: { 'x-api-key': apiKey } })).json();
    async function sandboxRecord(messageId: string, apiKey = key) {
      const all = (await t.inject({ method: 'GET', url: '/api/v1/sandbox/sends?limit=1000', headers: { 'x-api-key': apiKey } })).json().sends as Array<Record<string, unknown>>;
      return all.filter((s) => s.messageId === messageId);
    }

    it('sends a video, a GIF, an audio file, a voice note and a sticker, recording type, size and SHA-256 of the bytes', async () => {
      const cases = [
        { url: '/api/v1/send/video', body: { to: '12125551234', video: files.url('clip.mp4'), caption: 'clip' }, type: 'video', file: 'clip.mp4', mimetype: 'video/mp4', extra: { text: 'clip' } },
        { url: '/api/v1/send/video', body: { to: '12125551234', file: files.url('clip.mp4'), gif: true }, type: 'video', file: 'clip.mp4', mimetype: 'video/mp4', extra: { gif: true } },
        { url: '/api/v1/send/audio', body: { to: '12125551234', audio: files.url('song.mp3') }, type: 'audio', file: 'song.mp3', mimetype: 'audio/mpeg', extra: { voice: false } },
        { url: '/api/v1/send/audio', body: { to: '12125551234', audio: files.url('note.ogg'), voice: true }, type: 'audio', file: 'note.ogg', mimetype: 'audio/ogg; codecs=opus', extra: { voice: true } },
        { url: '/api/v1/send/sticker', body: { to: '12125551234', sticker: files.url('sticker.webp') }, type: 'sticker', file: 'sticker.webp', mimetype: 'image/webp', extra: {} },
      ] as const;
      for (const c of cases) {
        const res = await post(c.url, c.body);
        expect(res.statusCode, JSON.stringify(res.json())).toBe(200);
        expect(res.json()).toMatchObject({ success: true, status: 'sent' });
        const bytes = FILES[c.file];
        const media = { mimetype: c.mimetype, size: bytes.length, sha256: sha256(bytes) };
        const stored = await message(res.json().messageId);
        expect(stored).toMatchObject({ status: 'sent', type: c.type, content: { media, ...c.extra } });
        const records = await sandboxRecord(res.json().messageId);
        expect(records).toHaveLength(1);
        expect(records[0]).toMatchObject({ type: c.type, content: { media, ...c.extra } });
      }
    });

    it('refuses a voice note that is not OGG/Opus with a 400 that says so, and wrong media for the kind', async () => {
      const voice = await post('/api/v1/send/audio', { to: '12125551234', audio: files.url('song.mp3'), voice: true });
      expect(voice.statusCode).toBe(400);
      expect(voice.json()).toMatchObject({ code: 'send_failed', messageId: expect.any(String) });
      expect(voice.json().error).toMatch(/voice note must be OGG\/Opus/);
      const video = await post('/api/v1/send/video', { to: '12125551234', video: files.url('song.mp3') });
      expect(video.json()).toMatchObject({ code: 'send_failed' });
      expect(video.json().error).toMatch(/not an MP4 video.*audio\/mpeg/);
      const sticker = await post('/api/v1/send/sticker', { to: '12125551234', sticker: files.url('clip.mp4') });
      expect(sticker.json().error).toMatch(/not a WebP image/);
      expect(await sandboxRecord(voice.json().messageId)).toEqual([]);
    });

    it('applies the per-kind cap (MEDIA_MAX_STICKER_BYTES) to the bytes', async () => {
      const big = await serveFiles({ 'big.webp': Buffer.concat([sampleWebp(), Buffer.alloc(400)]) });
      try {
        const res = await post('/api/v1/send/sticker', { to: '12125551234', sticker: big.url('big.webp') });
        expect(res.json()).toMatchObject({ code: 'send_failed' });
        expect(res.json().error).toMatch(/larger than/);
      } finally {
        await big.close();
      }
    });

    it('sends a location, validating its ranges', async () => {
      const res = await post('/api/v1/send/location', { to: '12125551234', latitude: 52.52, longitude: 13.405, name: 'Berlin', address: 'Pariser Platz' });
      expect(res.statusCode).toBe(200);
      const location = { latitude: 52.52, longitude: 13.405, name: 'Berlin', address: 'Pariser Platz' };
      expect(await message(res.json().messageId)).toMatchObject({ type: 'location', content: { location } });
      expect((await sandboxRecord(res.json().messageId))[0]).toMatchObject({ type: 'location', content: { location } });
      const bad = await post('/api/v1/send/location', { to: '12125551234', latitude: 91, longitude: 0 });
      expect(bad.statusCode).toBe(400);
      expect(bad.json()).toMatchObject({ code: 'invalid_parameter' });
      expect(bad.json().error).toMatch(/latitude/);
      expect((await post('/api/v1/send/location', { to: '12125551234', latitude: 0, longitude: -180.5 })).json().error).toMatch(/longitude/);
      expect((await post('/api/v1/send/location', { to: '12125551234', latitude: 0 })).json()).toMatchObject({ code: 'missing_parameter' });
    });

    it('sends 1–10 contacts and refuses none or eleven', async () => {
      const contacts = [
        { name: 'Ada Lovelace', phones: ['+44 20 7946 0000'], email: 'ada@example.com', organization: 'Engines' },
        { name: 'Alan Turing', phones: ['+44 161 496 0000', '+44 7700 900000'] },
      ];
      const res = await post('/api/v1/send/contact', { to: '12125551234', contacts });
      expect(res.statusCode).toBe(200);
      expect(await message(res.json().messageId)).toMatchObject({ type: 'contact', content: { contacts } });
      expect((await post('/api/v1/send/contact', { to: '12125551234', contacts: [] })).statusCode).toBe(400);
      const eleven = Array.from({ length: 11 }, (_, i) => ({ name: `P${i}`, phones: ['12125551234'] }));
      expect((await post('/api/v1/send/contact', { to: '12125551234', contacts: eleven })).json()).toMatchObject({ code: 'invalid_parameter' });
    });

    it('sends a poll of 2–12 distinct options and refuses one option or duplicates', async () => {
      const res = await post('/api/v1/send/poll', { to: '12125551234', question: 'Lunch?', options: ['Pizza', 'Sushi', 'Salad'], multipleAnswers: true });
      expect(res.statusCode).toBe(200);
      const poll = { question: 'Lunch?', options: ['Pizza', 'Sushi', 'Salad'], multipleAnswers: true };
      expect(await message(res.json().messageId)).toMatchObject({ type: 'poll', content: { poll } });
      expect((await sandboxRecord(res.json().messageId))[0]).toMatchObject({ type: 'poll', content: { poll } });
      const one = await post('/api/v1/send/poll', { to: '12125551234', question: 'Lunch?', options: ['Pizza'] });
      expect(one.json()).toMatchObject({ code: 'invalid_parameter' });
      expect(one.json().error).toMatch(/options/);
      const dup = await post('/api/v1/send/poll', { to: '12125551234', question: 'Lunch?', options: ['Pizza', ' Pizza'] });
      expect(dup.json()).toMatchObject({ code: 'invalid_parameter' });
      expect(dup.json().error).toMatch(/different/);
    });

    it("reacts to a sent message, removes the reaction, and refuses another account's message or a non-emoji", async () => {
      const target = (await post('/api/v1/send', { to: '12125551234', text: 'react to me' })).json().messageId;
      const react = await post('/api/v1/send/reaction', { messageId: target, emoji: '👍' });
      expect(react.statusCode).toBe(200);
      expect(await message(react.json().messageId)).toMatchObject({ type: 'reaction', recipient: '12125551234', content: { reaction: { messageId: target, emoji: '👍' } } });
      expect((await sandboxRecord(react.json().messageId))[0]).toMatchObject({ type: 'reaction', recipient: '12125551234', content: { reaction: { messageId: target, emoji: '👍' } } });
      const removed = await post('/api/v1/send/reaction', { messageId: target, emoji: '' });
      expect(await message(removed.json().messageId)).toMatchObject({ content: { reaction: { messageId: target, emoji: '' } } });

      const other = await t.createAccount('unlimited');
      const theirs = (await post('/api/v1/send', { to: '12125551234', text: 'not yours' }, other.apiKey)).json().messageId;
      const foreign = await post('/api/v1/send/reaction', { messageId: theirs, emoji: '👍' });
      expect(foreign.statusCode).toBe(404);
      expect(foreign.json()).toMatchObject({ code: 'not_found' });
      expect((await post('/api/v1/send/reaction', { messageId: target, emoji: 'ok' })).json()).toMatchObject({ code: 'invalid_parameter' });
    });

    it('quotes a message of the same chat with replyTo, and mentions numbers and @all in a group', async () => {
      const quoted = (await post('/api/v1/send', { to: '12125551234', text: 'original' })).json().messageId;
      const reply = await post('/api/v1/send/location', { to: '12125551234', latitude: 1, longitude: 2, replyTo: quoted });
      expect(await message(reply.json().messageId)).toMatchObject({ content: { replyTo: { messageId: quoted, type: 'text', text: 'original' } } });
      const elsewhere = await post('/api/v1/send', { to: '12125559999', text: 'x', replyTo: quoted });
      expect(elsewhere.json()).toMatchObject({ code: 'invalid_parameter' });
      expect(elsewhere.json().error).toMatch(/another chat/);

      const groups = (await t.inject({ method: 'GET', url: '/api/v1/groups', headers: { 'x-api-key': key } })).json().groups;
      const mention = await post('/api/v1/send', { to: groups[0].id, text: '@12125551234 and everyone', mentions: ['+1 212 555 1234', '@all'] });
      expect(mention.statusCode).toBe(200);
      expect(await message(mention.json().messageId)).toMatchObject({ content: { mentions: ['12125551234'], mentionAll: true } });
      expect((await sandboxRecord(mention.json().messageId))[0]).toMatchObject({ content: { mentions: ['12125551234'], mentionAll: true } });
      const direct = await post('/api/v1/send', { to: '12125551234', text: 'hi', mentions: ['12125551234'] });
      expect(direct.json()).toMatchObject({ code: 'invalid_parameter' });
      expect(direct.json().error).toMatch(/groups only/);
    });

    it('shows the content summary in the message list', async () => {
      const sent = await post('/api/v1/send', { to: '12125551234', text: 'listed' });
      expect(sent.statusCode).toBe(200);
      const list = (await t.inject({ method: 'GET', url: '/api/v1/messages?limit=5', headers: { 'x-api-key': key } })).json();
      expect(list.messages[0]).toMatchObject({ messageId: sent.json().messageId });
      expect(list.messages[0].content).toEqual(expect.objectContaining({ text: 'listed', media: null }));
    });

    it('counts messages toward the daily limit, but not reactions; replays an Idempotency-Key and refuses it with another body', async () => {
      const trial = await t.createAccount('trial');
      const first = await post('/api/v1/send/poll', { to: '12125551234', question: 'Q', options: ['a', 'b'] }, trial.apiKey, { 'idempotency-key': 'poll-1' });
      expect(first.headers['ratelimit-remaining']).toBe('49');
      const again = await post('/api/v1/send/poll', { to: '12125551234', question: 'Q', options: ['a', 'b'] }, trial.apiKey, { 'idempotency-key': 'poll-1' });
      expect(again.json().messageId).toBe(first.json().messageId);
      expect(again.headers['idempotent-replayed']).toBe('true');
      const changed = await post('/api/v1/send/poll', { to: '12125551234', question: 'Q', options: ['a', 'c'] }, trial.apiKey, { 'idempotency-key': 'poll-1' });
      expect(changed.statusCode).toBe(422);
      const reaction = await post('/api/v1/send/reaction', { messageId: first.json().messageId, emoji: '🎉' }, trial.apiKey);
      expect(reaction.statusCode).toBe(200);
      expect(reaction.headers['ratelimit-limit']).toBeUndefined();
      const status = (await t.inject({ method: 'GET', url: '/api/v1/status', headers: { 'x-api-key': trial.apiKey } })).json();
      expect(status.messagesToday).toBe(1);
    });
  });
}
