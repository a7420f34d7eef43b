import type { Static, TObject } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../core/errors.js';
import { refAnswer, SendAnswer } from '../schemas.js';
import { SendAudioBody, SendContactBody, SendLocationBody, SendPollBody, SendReactionBody, SendStickerBody, SendVideoBody } from '../send-schemas.js';
import { IdempotencyHeaders, SEND_ROUTE_ERRORS, type SendResponder, type SendRouteInput } from './send.js';
import type { Authenticate } from './types.js';
import { registerMessageChangeRoutes, type Canceller } from './message-changes.js';

/** /api/v1/send/video → sendVideo */
const operationIdOf = (url: string) => `send${url.slice(url.lastIndexOf('/') + 1).replace(/^./, (c) => c.toUpperCase())}`;

/** The file under either of its names: the kind's own (`video`) or the generic `file`, not both. */
function oneOf(kindName: string, own: string | undefined, file: string | undefined): string | undefined {
  if (own !== undefined && file !== undefined && own !== file) {
    throw new AppError('invalid_parameter', `Invalid parameter: give either ${kindName} or file (the same URL), not both.`);
  }
  return own ?? file;
}

/** One send endpoint: its body schema and how its fields become a send (also used per item by the bulk send). */
export interface SendKindRoute<T extends TObject = TObject> {
  url: string;
  summary: string;
  body: T;
  toInput: (f: Static<T>) => SendRouteInput;
}

/** The sends beyond text, image and PDF (SPEC §11), through the same plumbing as /api/v1/send. */
export const SEND_KIND_ROUTES: SendKindRoute[] = [];
const kind = <T extends TObject>(url: string, summary: string, body: T, toInput: (f: Static<T>) => SendRouteInput) =>
  SEND_KIND_ROUTES.push({ url, summary, body, toInput: toInput as (f: Static<TObject>) => SendRouteInput });

  kind('/api/v1/send/video', 'Send an MP4 video (gif: true plays it looping)', SendVideoBody, (f) => ({
    kind: 'video',
    recipient: f.recipient ?? f.to,
    text: f.caption ?? f.text,
    mediaUrl: oneOf('video', f.video, f.file),
    filename: undefined,
    extras: { replyTo: f.replyTo, mentions: f.mentions, gif: f.gif },
    wait: f.wait,
  }));
  kind('/api/v1/send/audio', 'Send an audio file, or a voice note (voice: true, OGG/Opus)', SendAudioBody, (f) => ({
    kind: 'audio',
    recipient: f.recipient ?? f.to,
    text: undefined,
    mediaUrl: oneOf('audio', f.audio, f.file),
    filename: undefined,
    extras: { replyTo: f.replyTo, mentions: f.mentions, voice: f.voice },
    wait: f.wait,
  }));
  kind('/api/v1/send/sticker', 'Send a WebP sticker (static or animated)', SendStickerBody, (f) => ({
    kind: 'sticker',
    recipient: f.recipient ?? f.to,
    text: undefined,
    mediaUrl: oneOf('sticker', f.sticker, f.file),
    filename: undefined,
    extras: { replyTo: f.replyTo, mentions: f.mentions },
    wait: f.wait,
  }));
  kind('/api/v1/send/location', 'Send a location pin', SendLocationBody, (f) => ({
    kind: 'location',
    recipient: f.recipient ?? f.to,
    text: undefined,
    mediaUrl: undefined,
    filename: undefined,
    extras: { replyTo: f.replyTo, mentions: f.mentions, location: { latitude: f.latitude, longitude: f.longitude, name: f.name, address: f.address } },
    wait: f.wait,
  }));
  kind('/api/v1/send/contact', 'Send 1–10 contact cards (we write the vCards)', SendContactBody, (f) => ({
    kind: 'contact',
    recipient: f.recipient ?? f.to,
    text: undefined,
    mediaUrl: undefined,
    filename: undefined,
    extras: { replyTo: f.replyTo, mentions: f.mentions, contacts: f.contacts },
    wait: f.wait,
  }));
  kind('/api/v1/send/poll', 'Send a poll with 2–12 distinct options', SendPollBody, (f) => ({
    kind: 'poll',
    recipient: f.recipient ?? f.to,
    text: undefined,
    mediaUrl: undefined,
    filename: undefined,
    extras: { replyTo: f.replyTo, mentions: f.mentions, poll: { question: f.question, options: f.options, multipleAnswers: f.multipleAnswers } },
    wait: f.wait,
  }));
  kind('/api/v1/send/reaction', 'React to a message of this account\u2019s log ("" removes the reaction)', SendReactionBody, (f) => ({
    kind: 'reaction',
    recipient: undefined,
    text: undefined,
    mediaUrl: undefined,
    filename: undefined,
    extras: { reaction: { messageId: f.messageId, emoji: f.emoji } },
    wait: f.wait,
  }));


export function registerSendKindRoutes(app: FastifyInstance, authenticate: Authenticate, respond: SendResponder, cancel: Canceller): void {
  for (const { url, summary, body, toInput } of SEND_KIND_ROUTES) {
    app.post(
      url,
      {
        schema: { tags: ['send'], operationId: operationIdOf(url), summary, body, headers: IdempotencyHeaders, response: { 200: refAnswer(SendAnswer), ...SEND_ROUTE_ERRORS } },
        preHandler: authenticate({ allowQueryKey: false }),
      },
      async (request, reply) => respond(request, reply, toInput(request.body as Static<TObject>)),
    );
  }

  registerMessageChangeRoutes(app, authenticate, respond, cancel);
}
