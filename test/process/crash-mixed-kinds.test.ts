import { createHash } from 'node:crypto';
import { Agent, request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../baileys/ensure-built.js';
import { CrashRig, listedSandboxSends, untilNonePending } from '../helpers/crash-rig.js';
import { createStoredAccounts, testDialects } from '../helpers/databases.js';
import { sampleMp3, sampleMp4, sampleOpus, sampleWebp, serveFiles } from '../helpers/media-samples.js';
import { ROOT, type ServerProcess } from '../helpers/server-process.js';
import { tinyPng } from '../media/fixtures.js';

/** Each kind this many times in the burst (a reaction, an edit and a delete each on a message of their own). */
const PER_KIND = 18;
const CONCURRENCY = 16;
/** The first process hangs in the send that puts this many messages (targets included) on the sandbox's network. */
const HANG_INTO_BURST = 90;
/** The burst's first part (it holds more than HANG_INTO_BURST valid calls). */
const SPLIT = 126;
/** The process is killed once this many calls of the second part are answered, the others in flight. */
const KILL_AFTER_ANSWERS = 30;

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const FILES = { 'photo.png': tinyPng(), 'clip.mp4': sampleMp4(), 'voice.ogg': sampleOpus(4), 'song.mp3': sampleMp3(), 'sticker.webp': sampleWebp() };

interface Call {
  /** What the sandbox records it as. */
  kind: string;
  method: 'POST' | 'PATCH' | 'DELETE';
  path: string;
  body?: Record<string, unknown>;
  /** Invalid on purpose: must be refused with a 400 and reach nothing. */
  refused?: boolean;
  /** The bytes a media kind must have put on the network. */
  file?: keyof typeof FILES;
}

for (const dialect of testDialects()) {
  describe(`crash safety with every kind of message (${dialect})`, () => {
    const rig = new CrashRig(dialect);
    let files: Awaited<ReturnType<typeof serveFiles>> | undefined;
    afterAll(async () => {
      await files?.close();
      await rig.close();
    });

    it('SIGKILL in the middle of a burst of mixed kinds (text, image, video, audio, voice, sticker, location, contact, poll, reaction, edit, delete): every accepted message reaches the network exactly once — again only under its own WhatsApp id when the crash caught it between the network and the outcome — and nothing that was refused', { timeout: 180_000 }, async () => {
      ensureBuilt(ROOT);
      const t0 = Date.now();
      const at = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
      const env = await rig.create({ ALLOW_PRIVATE_URLS: 'true', NODE_ENV: 'test' });
      files = await serveFiles(FILES);
      const [{ apiKey }] = await createStoredAccounts(env.DATABASE_URL, ['mixed-crash@example.com']);
      const peek = rig.open();

      // Messages for the reactions, edits and deletes to act on: sent (and so on the network) before the burst.
      const targets = 3 * PER_KIND;
      const first = await rig.start({ ...env, SANDBOX_HANG_AFTER_SENDS: String(targets + HANG_INTO_BURST) });
      const dispatcher = new Agent({ connections: CONCURRENCY, pipelining: 1 });
      const call = async (server: ServerProcess, c: Call, key: string) => {
        const res = await request(`${server.url}${c.path}`, {
          method: c.method,
          dispatcher,
          headers: { 'x-api-key': apiKey, 'idempotency-key': key, ...(c.body ? { 'content-type': 'application/json' } : {}) },
          body: c.body ? JSON.stringify(c.body) : undefined,
        });
        return { status: res.statusCode, replayed: res.headers['idempotent-replayed'] === 'true', body: (await res.body.json()) as { success: boolean; messageId?: string; status?: string; error?: string } };
      };
      const targetIds = await Promise.all(
        Array.from({ length: targets }, async (_, i) => {
          const res = await call(first, { kind: 'text', method: 'POST', path: '/api/v1/send', body: { recipient: '12125550150', text: `target ${i}`, wait: 20_000 } }, `target-${i}`);
          expect(res.status, JSON.stringify(res.body)).toBe(200);
          expect(res.body.status).toBe('sent');
          return res.body.messageId!;
        }),
      );
      console.log(`${at()}: started, ${targets} targets sent`);
      const reactTo = targetIds.slice(0, PER_KIND);
      const editOf = targetIds.slice(PER_KIND, 2 * PER_KIND);
      const deleteOf = targetIds.slice(2 * PER_KIND);

      const to = (i: number) => `4479${String(200_000 + i)}2`; // never a magic number (…0000, …0001)
      const send = (kind: string, path: string, body: Record<string, unknown>, extra: Partial<Call> = {}): ((i: number) => Call) => (i) => ({ kind, method: 'POST', path, body: { recipient: to(i), wait: 0, ...body }, ...extra });
      const kinds: Array<(i: number, n: number) => Call> = [
        (i) => send('text', '/api/v1/send', { text: `burst text ${i}` })(i),
        (i) => send('image', '/api/v1/send/image', { image: files!.url('photo.png'), caption: `photo ${i}` }, { file: 'photo.png' })(i),
        (i) => send('video', '/api/v1/send/video', { video: files!.url('clip.mp4'), caption: `clip ${i}`, gif: i % 2 === 0 }, { file: 'clip.mp4' })(i),
        (i) => send('audio', '/api/v1/send/audio', { audio: files!.url('voice.ogg'), voice: true }, { file: 'voice.ogg' })(i),
        (i) => send('audio', '/api/v1/send/audio', { audio: files!.url('song.mp3') }, { file: 'song.mp3' })(i),
        (i) => send('sticker', '/api/v1/send/sticker', { sticker: files!.url('sticker.webp') }, { file: 'sticker.webp' })(i),
        (i) => send('location', '/api/v1/send/location', { latitude: 51.5 + i / 1000, longitude: -0.12, name: `place ${i}` })(i),
        (i) => send('contact', '/api/v1/send/contact', { contacts: [{ name: `Contact ${i}`, phones: ['+1 212 555 0100'] }] })(i),
        (i) => send('poll', '/api/v1/send/poll', { question: `lunch ${i}?`, options: ['pizza', 'sushi'], multipleAnswers: i % 2 === 0 })(i),
        (_, n) => ({ kind: 'reaction', method: 'POST', path: '/api/v1/send/reaction', body: { messageId: reactTo[n]!, emoji: '👍', wait: 0 } }),
        (_, n) => ({ kind: 'edit', method: 'PATCH', path: `/api/v1/messages/${editOf[n]!}`, body: { text: `edited ${n}`, wait: 0 } }),
        (_, n) => ({ kind: 'revoke', method: 'DELETE', path: `/api/v1/messages/${deleteOf[n]!}?wait=0` }),
        // Refused at the door: a poll of one option, coordinates out of range.
        (i) => send('poll', '/api/v1/send/poll', { question: `refused poll ${i}`, options: ['only'] }, { refused: true })(i),
        (i) => send('location', '/api/v1/send/location', { latitude: 91, longitude: 0, name: `refused place ${i}` }, { refused: true })(i),
      ];
      const calls: Call[] = [];
      for (let n = 0; n < PER_KIND; n++) for (const make of kinds) calls.push(make(calls.length, n));

      const networkSends = async () => Number((await peek.db.selectFrom('sandbox_sends').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
      const answers = new Map<number, { status: number; messageId?: string }>();
      const burst = async (from: number, to: number, afterEach: () => void = () => {}) => {
        let next = from;
        const worker = async () => {
          while (next < to) {
            const i = next++;
            try {
              const res = await call(first, calls[i]!, `burst-${i}`);
              answers.set(i, { status: res.status, messageId: res.body.messageId });
              afterEach();
            } catch {
              // The process died under this request (or before it): the client has no answer.
            }
          }
        };
        await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      };
      // The first part of the burst, until the sandbox hangs right after putting a message on its
      // network (SANDBOX_HANG_AFTER_SENDS): the window between the network and the outcome's commit…
      await burst(0, SPLIT);
      const deadline1 = Date.now() + 60_000;
      while ((await networkSends()) < targets + HANG_INTO_BURST) {
        if (Date.now() > deadline1) throw new Error(`the sandbox never reached ${targets + HANG_INTO_BURST} sends`);
        await new Promise((r) => setTimeout(r, 5));
      }
      // …then the rest, killed with SIGKILL while its requests are in flight.
      let answeredAfterSplit = 0;
      await burst(SPLIT, calls.length, () => {
        if (++answeredAfterSplit === KILL_AFTER_ANSWERS) first.child.kill('SIGKILL');
      });
      await first.kill('SIGKILL');
      const accepted = new Map([...answers].filter(([, a]) => a.status === 200).map(([i, a]) => [i, a.messageId!]));
      const unanswered = calls.map((_, i) => i).filter((i) => !answers.has(i));
      console.log(`${at()}: burst: ${calls.length} calls, ${accepted.size} accepted, ${unanswered.length} unanswered when the process was killed`);
      expect(accepted.size).toBeGreaterThan(HANG_INTO_BURST / 2);
      // Killed mid-burst: calls before and after the kill, some of them in flight when it came.
      expect(unanswered.length).toBeGreaterThan(0);
      expect(unanswered.length).toBeLessThan(calls.length - SPLIT);
      for (const [i, a] of answers) expect(a.status, `call ${i} (${calls[i]!.kind}${calls[i]!.refused ? ', invalid' : ''})`).toBe(calls[i]!.refused ? 400 : 200);

      // In the window: on the network, but the outcome never committed (at least the send the sandbox hung in).
      const inTheWindow = new Set(
        (await peek.db.selectFrom('sandbox_sends').innerJoin('messages', 'messages.id', 'sandbox_sends.message_id').select('message_id').where('messages.status', '=', 'pending').execute()).map((r) => r.message_id),
      );
      expect(inTheWindow.size, 'messages on the network whose outcome the crash lost').toBeGreaterThan(0);

      const second = await rig.start(env);
      console.log(`${at()}: restarted`);
      // The client sends what got no answer once more, under the same Idempotency-Key: what the dead
      // process had committed answers with its first id; what it had not is accepted now.
      let replays = 0;
      await Promise.all(
        unanswered.map(async (i) => {
          const res = await call(second, calls[i]!, `burst-${i}`);
          expect(res.status, `call ${i} again: ${JSON.stringify(res.body)}`).toBe(calls[i]!.refused ? 400 : 200);
          if (res.status === 200) accepted.set(i, res.body.messageId!);
          if (res.replayed) replays++;
        }),
      );
      console.log(`retried ${unanswered.length} unanswered calls after the restart: ${replays} had been committed by the killed process (answered with their first id), the rest accepted now`);
      await dispatcher.close();
      await untilNonePending(peek);

      console.log(`${at()}: all settled`);
      // Every valid call is one message of the log, sent; the refused ones are none.
      const valid = calls.map((c, i) => [c, i] as const).filter(([c]) => !c.refused);
      expect(accepted.size).toBe(valid.length);
      expect(new Set(accepted.values()).size, 'one message per call, whatever the crash').toBe(valid.length);
      const rows = await peek.db.selectFrom('messages').select(['id', 'status', 'kind', 'wa_message_id', 'edited_at', 'revoked_at']).execute();
      expect(rows).toHaveLength(targets + valid.length);
      const row = new Map(rows.map((r) => [r.id, r]));
      for (const [c, i] of valid) {
        expect(row.get(accepted.get(i)!), `call ${i} (${c.kind})`).toMatchObject({ status: 'sent', kind: c.kind });
      }
      for (const id of editOf) expect(row.get(id)!.edited_at).not.toBeNull();
      for (const id of deleteOf) expect(row.get(id)!.revoked_at).not.toBeNull();

      // The network: each message of the log once, or twice when the crash caught it in the window,
      // always under the WhatsApp id fixed at acceptance; nothing else.
      const sends = await peek.db.selectFrom('sandbox_sends').select(['message_id', 'wa_message_id', 'kind', 'content']).orderBy('seq').execute();
      const copies = new Map<string, typeof sends>();
      for (const s of sends) copies.set(s.message_id, [...(copies.get(s.message_id) ?? []), s]);
      expect(new Set(copies.keys())).toEqual(new Set(rows.map((r) => r.id)));
      for (const [id, copiesOf] of copies) {
        expect(new Set(copiesOf.map((s) => s.wa_message_id)), `WhatsApp ids ${id} went out under`).toEqual(new Set([row.get(id)!.wa_message_id]));
        expect(copiesOf.map((s) => s.kind), `kind of ${id} on the network`).toEqual(copiesOf.map(() => row.get(id)!.kind));
      }
      const resent = [...copies].filter(([, c]) => c.length > 1).map(([id]) => id);
      expect(resent.sort()).toEqual([...inTheWindow].sort());
      for (const id of resent) expect(copies.get(id), `copies of ${id}`).toHaveLength(2);
      console.log(`network: ${sends.length} sends of ${copies.size} messages; ${inTheWindow.size} sent again after the restart under their first WhatsApp id (${resent.map((id) => row.get(id)!.kind).join(', ')})`);
      // The kinds of what went out twice, and that the crash hit more than texts.
      console.log(`kinds accepted before the kill: ${[...new Set([...answers].filter(([, a]) => a.status === 200).map(([i]) => calls[i]!.kind))].join(', ')}`);

      // What went out is what was asked: media as the very bytes served, the acts on their targets.
      for (const [c, i] of valid) {
        const content = JSON.parse(copies.get(accepted.get(i)!)![0]!.content ?? '{}') as Record<string, any>;
        if (c.file) expect(content.media, `call ${i} (${c.kind})`).toMatchObject({ size: FILES[c.file].length, sha256: sha256(FILES[c.file]) });
        if (c.kind === 'reaction') expect(content.reaction).toEqual({ messageId: c.body!.messageId, emoji: '👍' });
        if (c.kind === 'edit') expect(content.edit).toEqual({ messageId: c.path.split('/').pop() });
        if (c.kind === 'revoke') expect(content.revoke).toEqual({ messageId: c.path.split('/').pop()!.split('?')[0] });
        if (c.kind === 'poll') expect(content.poll.options).toEqual(['pizza', 'sushi']);
      }
      const refusedTexts = calls.filter((c) => c.refused).map((c) => String(c.body!.question ?? c.body!.name));
      for (const s of sends) for (const t of refusedTexts) expect(s.content).not.toContain(t);

      // The public surface agrees: the sandbox's record lists every send, the copies included.
      const listed = await listedSandboxSends(second.url, apiKey);
      expect(listed.sort()).toEqual(sends.map((s) => s.message_id).sort());
      await second.kill('SIGTERM');
    });
  });
}
