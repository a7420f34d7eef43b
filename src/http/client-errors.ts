import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger } from 'fastify';
import { AppError } from '../core/errors.js';
import { errorBody } from './error-handler.js';
import { ERROR_STATUS } from './error-registry.js';

function toAppError(code: string | undefined): AppError {
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new AppError('request_timeout', 'The request took too long to arrive: send its headers and body without pausing.');
    case 'HPE_HEADER_OVERFLOW':
      return new AppError('headers_too_large', 'The request headers are too large.');
    default:
      return new AppError('invalid_parameter', 'The request is not valid HTTP.');
  }
}

/**
 * Node's own HTTP parser errors (malformed requests, headers too large, a client too slow) come
 * before Fastify routes anything; they get the same JSON error shape (SPEC §4) as a raw HTTP/1.1
 * answer, and the connection closes.
 */
export function clientErrorHandler(log: FastifyBaseLogger) {
  return (error: Error & { code?: string }, socket: Socket): void => {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    log.debug({ err: error }, 'client error');
    // A response already under way cannot be replaced by another: only close the connection.
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (!socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const appError = toAppError(error.code);
    const status = ERROR_STATUS[appError.code];
    const body = JSON.stringify(errorBody(appError));
    socket.end(
      [
        `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
        'Content-Type: application/json; charset=utf-8',
        `Content-Length: ${Buffer.byteLength(body)}`,
        'Cache-Control: no-store',
        'X-Content-Type-Options: nosniff',
        'Connection: close',
        '',
        body,
      ].join('\r\n'),
    );
    // end() lets the answer reach the client; a client that never closes its side is cut after a second.
    socket.setTimeout(1000, () => socket.destroy());
  };
}
