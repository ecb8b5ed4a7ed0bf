import type { Context } from 'koa';
import { StoreRefusedError, StoreUnavailableError } from '../errors.js';
import type { Logger } from '../log.js';
import {
  BadRequestError,
  MethodNotAllowedError,
  NotFoundError,
  RateLimitedError,
  RequestValidationError,
  ShuttingDownError,
  UnauthorizedError,
} from './http-errors.js';
import { sendJson } from './respond.js';

/** Seconds a client is asked to wait when the store is down. */
const RETRY_AFTER_SECONDS = 5;

/**
 * The one place where errors become HTTP answers; called by the request frame
 * around everything else. Every body is `{"detail": ...}`. 4xx say what was
 * wrong; 5xx say nothing internal and are logged with their cause and the
 * request's id, which ties them to the access line.
 */
export function answerError(ctx: Context, error: unknown, logger: Logger, requestId: string): void {
  if (error instanceof RequestValidationError) {
    sendJson(ctx, 422, JSON.stringify({ detail: error.issues }));
  } else if (error instanceof NotFoundError) {
    sendJson(ctx, 404, '{"detail":"Not Found."}');
  } else if (error instanceof MethodNotAllowedError) {
    ctx.set('Allow', error.allow.join(', '));
    sendJson(ctx, 405, '{"detail":"Method Not Allowed."}');
  } else if (error instanceof UnauthorizedError) {
    ctx.set('WWW-Authenticate', `Basic realm="${error.realm}", charset="UTF-8"`);
    sendJson(ctx, 401, '{"detail":"Not authenticated."}');
  } else if (error instanceof RateLimitedError) {
    ctx.set('Retry-After', String(error.retryAfterSeconds));
    sendJson(ctx, 429, '{"detail":"Too Many Requests."}');
  } else if (error instanceof BadRequestError) {
    ctx.set('Connection', 'close');
    sendJson(ctx, 400, '{"detail":"Bad Request."}');
  } else if (error instanceof ShuttingDownError) {
    ctx.set('Connection', 'close');
    ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
    sendJson(ctx, 503, '{"detail":"Service unavailable."}');
  } else if (error instanceof StoreUnavailableError || error instanceof StoreRefusedError) {
    // Either may end without the client doing anything; a refusal needs an operator.
    const context = { err: error, requestId, method: ctx.method, url: ctx.url };
    if (error instanceof StoreRefusedError) logger.error(context, 'store refused the API, answering 503');
    else logger.warn(context, 'store unavailable, answering 503');
    ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
    sendJson(ctx, 503, '{"detail":"Service unavailable."}');
  } else if (isClientHttpError(error)) {
    sendJson(ctx, error.status, JSON.stringify({ detail: error.message }));
  } else {
    logger.error({ err: error, requestId, method: ctx.method, url: ctx.url }, 'request failed');
    sendJson(ctx, 500, '{"detail":"Internal server error."}');
  }
}

/** Koa's own 4xx errors (a malformed request), whose message is safe to show. */
function isClientHttpError(error: unknown): error is { status: number; message: string } {
  const { status, expose } = error as { status?: unknown; expose?: unknown };
  return typeof status === 'number' && status >= 400 && status < 500 && expose === true;
}
