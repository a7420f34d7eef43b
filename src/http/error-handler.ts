import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorCode } from '../core/errors.js';
import { ERROR_STATUS } from './error-registry.js';
import { fromValidation, type ValidationIssue } from './validation-errors.js';

/** Fastify's own errors for bodies it could not read. */
function fromFastify(error: FastifyError, bodyLimit: number): AppError | undefined {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('payload_too_large', `The request body is larger than ${bodyLimit} bytes.`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('unsupported_media_type', 'Unsupported Content-Type: send JSON with Content-Type: application/json.');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError('missing_parameter', 'The request body is empty: send a JSON object.');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError('invalid_parameter', 'The request body is not valid JSON.');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError('invalid_parameter', 'The Content-Length header does not match the body.');
    case 'FST_ERR_BAD_URL':
    case 'FST_ERR_ASYNC_CONSTRAINT':
      return new AppError('invalid_parameter', 'The request URL is malformed.');
    default:
      break;
  }
  if (error instanceof SyntaxError || (error.statusCode === 400 && /JSON/i.test(error.message))) {
    return new AppError('invalid_parameter', 'The request body is not valid JSON.');
  }
  if (error.statusCode === 400) return new AppError('invalid_parameter', 'The request is malformed.');
  if (error.statusCode === 413) return new AppError('payload_too_large', `The request body is larger than ${bodyLimit} bytes.`);
  if (error.statusCode === 415) return new AppError('unsupported_media_type', 'Unsupported Content-Type: send JSON with Content-Type: application/json.');
  return undefined;
}

/** The JSON body of an error (SPEC §4). */
export function errorBody(error: AppError): Record<string, unknown> {
  const body: Record<string, unknown> = { success: false, error: error.message, code: error.code };
  if (error.details.messageId) body.messageId = error.details.messageId;
  return body;
}

function errorHeaders(reply: FastifyReply, error: AppError): FastifyReply {
  if (error.details.headers) reply.headers(error.details.headers);
  if (error.details.retryAfterSeconds !== undefined) reply.header('Retry-After', String(error.details.retryAfterSeconds));
  return reply.code(ERROR_STATUS[error.code]);
}

export function sendError(reply: FastifyReply, error: AppError): FastifyReply {
  return errorHeaders(reply, error).type('application/json; charset=utf-8').send(errorBody(error));
}

/** The same error as one line of text, for clients written for CallMeBot (GET /whatsapp.php). */
export function sendPlainError(reply: FastifyReply, error: AppError): FastifyReply {
  const messageId = error.details.messageId ? ` Message id: ${error.details.messageId}` : '';
  return errorHeaders(reply, error).type('text/plain; charset=utf-8').send(`Error: ${error.message} (${error.code})${messageId}\n`);
}

export function appError(code: ErrorCode, message: string): AppError {
  return new AppError(code, message);
}

type PageSender = (reply: FastifyReply) => FastifyReply;
const browserNotFoundPages = new WeakMap<FastifyInstance, PageSender>();

/** The dashboard's own not-found page, for a browser asking for a page that does not exist (SPEC §4 JSON for everything else). */
export function serveNotFoundPageToBrowsers(app: FastifyInstance, send: PageSender): void {
  browserNotFoundPages.set(app, send);
}

/** A browser navigating to a page: GET/HEAD outside the API's paths, asking for HTML. */
function wantsPage(request: FastifyRequest): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  const pathname = request.url.split('?')[0]!;
  if (/^\/(api|auth|docs|openapi\.json|send\.php|metrics|healthz|readyz)(\/|$)/.test(pathname)) return false;
  const accept = request.headers.accept;
  return typeof accept === 'string' && accept.includes('text/html');
}

/** Any error a route throws as one of our codes (an unexpected one is logged and becomes internal_error). */
export function asAppError(error: FastifyError & { validation?: ValidationIssue[] }, request: FastifyRequest, bodyLimit: number): AppError {
  if (error instanceof AppError) return error;
  if (error.validation && error.validation.length > 0) return fromValidation(error.validation);
  const mapped = fromFastify(error, bodyLimit);
  if (mapped) return mapped;
  request.log.error({ err: error }, 'unhandled error');
  // 5xx details stay in the log; the client gets a sentence without internals.
  return new AppError('internal_error', 'Something went wrong on the server. The error was logged; try again.');
}

export function installErrorHandling(app: FastifyInstance, bodyLimit: number): void {
  app.setErrorHandler((error: FastifyError & { validation?: ValidationIssue[] }, request: FastifyRequest, reply: FastifyReply) =>
    sendError(reply, asAppError(error, request, bodyLimit)),
  );
  app.setNotFoundHandler((request, reply) => {
    const page = browserNotFoundPages.get(app);
    if (page && wantsPage(request)) return page(reply);
    return sendError(reply, new AppError('not_found', `No endpoint ${request.method} ${request.url.split('?')[0]}. See /docs for the API.`));
  });
}
