import { Type } from '@sinclair/typebox';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

export const LocationSchema = Type.Object({
  latitude: Type.Number({ minimum: -90, maximum: 90 }),
  longitude: Type.Number({ minimum: -180, maximum: 180 }),
  name: Type.Optional(Type.String({ maxLength: 1000 })),
  address: Type.Optional(Type.String({ maxLength: 1000 })),
});

export const ContactSchema = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 256 }),
  phones: Type.Array(Type.String({ minLength: 1, maxLength: 32 }), { minItems: 1, maxItems: 10 }),
  email: Type.Optional(Type.String({ maxLength: 256 })),
  organization: Type.Optional(Type.String({ maxLength: 256 })),
});

/** What a message carried (GET /api/v1/messages, sandbox records); kind-specific parts only when present. */
export const ContentSummarySchema = Type.Union([
  Type.Object({
    text: Nullable(Type.String()),
    fileName: Nullable(Type.String()),
    media: Type.Union([Type.Object({ id: Type.Optional(Type.String({ description: 'A received file: GET /api/v1/media/{id}' })), mimetype: Type.String(), size: Type.Integer(), sha256: Type.String() }), Type.Null()]),
    gif: Type.Optional(Type.Boolean()),
    voice: Type.Optional(Type.Boolean()),
    location: Type.Optional(LocationSchema),
    contacts: Type.Optional(Type.Array(ContactSchema)),
    poll: Type.Optional(Type.Object({ question: Type.String(), options: Type.Array(Type.String()), multipleAnswers: Type.Boolean() })),
    reaction: Type.Optional(Type.Object({ messageId: Type.String(), emoji: Type.String() })),
    edit: Type.Optional(Type.Object({ messageId: Type.String() })),
    revoke: Type.Optional(Type.Object({ messageId: Type.String() })),
    replyTo: Type.Optional(Type.Object({ messageId: Type.String(), type: Type.String(), text: Nullable(Type.String()) })),
    quoted: Type.Optional(Type.Object({ id: Type.String(), messageId: Nullable(Type.String()), type: Nullable(Type.String()), text: Nullable(Type.String()) })),
    mediaError: Type.Optional(Type.String()),
    durationSeconds: Type.Optional(Type.Number()),
    mentions: Type.Optional(Type.Array(Type.String())),
    mentionAll: Type.Optional(Type.Boolean()),
    presence: Type.Optional(Type.String()),
    read: Type.Optional(Type.Object({ messageIds: Type.Union([Type.Array(Type.String()), Type.Null()]) })),
  }),
  Type.Null(),
]);
