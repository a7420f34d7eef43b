import { AppError, type ErrorCode } from '../../core/errors.js';
import { channelName } from '../../store/signals.js';

/** Where a process hears the calls forwarded to it, and the answers to its own. */
export const callChannel = (processId: string) => channelName('mapi_call', processId);
export const answerChannel = (processId: string) => channelName('mapi_answer', processId);

type Answer = { ok: true; value: unknown } | { ok: false; code: ErrorCode; message: string; details?: AppError['details'] };

/** What the holder writes into the call's row: the value, or the error as the caller should throw it. */
export function encodeAnswer(outcome: { value: unknown } | { error: unknown }): string {
  if ('value' in outcome) return JSON.stringify({ ok: true, value: outcome.value ?? null } satisfies Answer);
  const error = outcome.error;
  if (error instanceof AppError) return JSON.stringify({ ok: false, code: error.code, message: error.message, details: error.details } satisfies Answer);
  return JSON.stringify({ ok: false, code: 'internal_error', message: 'The server process holding this WhatsApp session failed to run the call; its log has the error.' } satisfies Answer);
}

/** The caller's side: the value, or the holder's error thrown here. */
export function decodeAnswer(text: string): unknown {
  const answer = JSON.parse(text) as Answer;
  if (answer.ok) return answer.value;
  throw new AppError(answer.code, answer.message, answer.details ?? {});
}
