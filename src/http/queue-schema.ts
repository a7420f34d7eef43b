import { Type } from '@sinclair/typebox';

/** The queue fields every send takes (SPEC §11): when, until when, how urgent. */
export const QueueSchemaFields = {
  sendAt: Type.Optional(
    Type.String({ maxLength: 40, description: 'ISO 8601 time with its zone: send then, not now (status `scheduled`); at most SEND_SCHEDULE_MAX_DAYS (30) days ahead' }),
  ),
  expiresAt: Type.Optional(Type.String({ maxLength: 40, description: 'ISO 8601 time: if the message is not sent by then, it fails with `expired`' })),
  ttl: Type.Optional(Type.Integer({ minimum: 1, maximum: 366 * 86_400, description: 'Seconds (from now, or from sendAt) until it expires; instead of expiresAt' })),
  priority: Type.Optional(
    Type.Union([Type.Literal('high'), Type.Literal('normal'), Type.Literal('low')], { description: 'Within this account\u2019s queue high goes first; the same priority keeps acceptance order (default normal)' }),
  ),
};
