import { Type } from '@sinclair/typebox';
import { ContactSchema, LocationSchema } from './message-content-schema.js';
import { RecipientField, Text, UrlField, Wait } from './schemas.js';
import { QueueSchemaFields } from './queue-schema.js';

/** `replyTo` and `mentions`, taken by every send. */
export const ReplyAndMentions = {
  replyTo: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Id of a message of this account\u2019s log to quote' })),
  mentions: Type.Optional(
    Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 1024, description: 'Numbers to mention (groups only); "@all" mentions everyone' }),
  ),
};

const Common = {
  recipient: Type.Optional(RecipientField),
  to: Type.Optional(RecipientField),
  wait: Type.Optional(Wait),
  ...ReplyAndMentions,
  ...QueueSchemaFields,
};

export const SendVideoBody = Type.Object({
  ...Common,
  video: Type.Optional(UrlField),
  file: Type.Optional(UrlField),
  caption: Type.Optional(Text),
  text: Type.Optional(Text),
  gif: Type.Optional(Type.Boolean({ description: 'Play looping without sound, as WhatsApp GIFs do' })),
});

export const SendAudioBody = Type.Object({
  ...Common,
  audio: Type.Optional(UrlField),
  file: Type.Optional(UrlField),
  voice: Type.Optional(Type.Boolean({ description: 'A voice note (push-to-talk): OGG/Opus only' })),
});

export const SendStickerBody = Type.Object({
  ...Common,
  sticker: Type.Optional(UrlField),
  file: Type.Optional(UrlField),
});

export const SendLocationBody = Type.Object({ ...Common, ...LocationSchema.properties });

export const SendContactBody = Type.Object({
  ...Common,
  contacts: Type.Array(ContactSchema, { minItems: 1, maxItems: 10 }),
});

export const SendPollBody = Type.Object({
  ...Common,
  question: Type.String({ minLength: 1, maxLength: 255 }),
  options: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { minItems: 2, maxItems: 12 }),
  multipleAnswers: Type.Optional(Type.Boolean()),
});

export const SendReactionBody = Type.Object({
  messageId: Type.String({ minLength: 1, maxLength: 64, description: 'A message of this account\u2019s log' }),
  emoji: Type.String({ maxLength: 32, description: 'One emoji; "" removes the reaction' }),
  wait: Type.Optional(Wait),
  ...QueueSchemaFields,
});

export const MessageIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
export const EditMessageBody = Type.Object({ text: Text, wait: Type.Optional(Wait) });
export const DeleteMessageQuery = Type.Object({ wait: Type.Optional(Wait) });

export const ChatParams = Type.Object({ chat: RecipientField });
export const PresenceBody = Type.Object({
  state: Type.Union([Type.Literal('composing'), Type.Literal('recording'), Type.Literal('paused')], { description: 'typing, recording audio, or stop' }),
});
export const ReadBody = Type.Object({
  messageIds: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: 1000, description: 'WhatsApp ids of received messages (message.received id)' })),
});
export const OkAnswer = Type.Object({ success: Type.Literal(true) }, { examples: [{ success: true }] });
