import { Type } from '@sinclair/typebox';
import { ContentSummarySchema } from './message-content-schema.js';

export const Text = Type.String({ maxLength: 65_536, description: 'Message body (caption for media)' });
export const RecipientField = Type.String({ maxLength: 64, description: 'Phone with country code (12125551234) or group id (120363…@g.us)' });
export const UrlField = Type.String({ maxLength: 2048 });
export const Filename = Type.String({ maxLength: 255, description: 'Display name (default document.pdf)' });
export const Wait = Type.Integer({ minimum: 0, description: 'Milliseconds to wait for the outcome (default 5000, 0 = answer at once)' });

export const ErrorBody = Type.Object({
  success: Type.Literal(false),
  error: Type.String(),
  code: Type.String(),
  messageId: Type.Optional(Type.String()),
});

export const SendAnswer = Type.Object({
  success: Type.Literal(true),
  messageId: Type.String(),
  status: Type.Union([Type.Literal('sent'), Type.Literal('pending')]),
});

export const MessageViewSchema = Type.Object({
  messageId: Type.String(),
  status: Type.String(),
  recipient: Type.String(),
  type: Type.String(),
  error: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
  sentAt: Type.Union([Type.String(), Type.Null()]),
  deliveredAt: Type.Union([Type.String(), Type.Null()]),
  readAt: Type.Union([Type.String(), Type.Null()]),
  editedAt: Type.Union([Type.String(), Type.Null()]),
  revokedAt: Type.Union([Type.String(), Type.Null()]),
  content: ContentSummarySchema,
});

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
};

export const errorResponses = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  429: ErrorBody,
};
