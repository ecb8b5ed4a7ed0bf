import { randomUUID } from 'node:crypto';
import type { Context, Middleware } from 'koa';
import { Readable } from 'node:stream';
import type { Logger } from '../log.js';
import type { ApiMetrics } from '../metrics.js';
import { answerError } from './errors.js';
import { BadRequestError, ShuttingDownError } from './http-errors.js';
import { decodeRoutePath } from './route-path.js';

const INCOMING_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface FrameDeps {
  readonly logger: Logger;
  readonly metrics: ApiMetrics;
  /** True once a shutdown began: new requests get 503 while in-flight ones finish. */
  readonly draining: () => boolean;
}

/**
 * The outermost layer, and the only one every request goes through before routing:
 * each middleware layer costs a promise and a closure per request, which showed in
 * the throughput benchmark against bare Koa. In it:
 * - a request id (the caller's `X-Request-Id` when it is a sane one) and
 *   `X-Content-Type-Options: nosniff` on every answer, errors included;
 * - 400 for an HTTP/1.1 request without `Host` (server.ts);
 * - 503 for new requests while draining;
 * - the path decoded for routing (route-path.ts);
 * - every error thrown below becomes its JSON answer (errors.ts);
 * - one access line and the request's metrics, whatever the outcome.
 */
export function requestFrame({ logger, metrics, draining }: FrameDeps): Middleware {
  return async (ctx, next) => {
    const started = performance.now();
    const incoming = ctx.get('X-Request-Id');
    const requestId = INCOMING_ID.test(incoming) ? incoming : randomUUID();
    // Straight onto the response: Koa's `ctx.set` builds arrays for each call.
    ctx.res.setHeader('X-Request-Id', requestId);
    ctx.res.setHeader('X-Content-Type-Options', 'nosniff');
    try {
      if (ctx.req.headers.host === undefined && ctx.req.httpVersion === '1.1') throw new BadRequestError('an HTTP/1.1 request without Host');
      if (draining()) throw new ShuttingDownError('shutting down');
      decodeRoutePath(ctx);
      await next();
    } catch (error) {
      answerError(ctx, error, logger, requestId);
    } finally {
      // A streamed page is still being sent: it is timed to its end (or its client's
      // leaving), by when its connection may be gone, and its address with it. One
      // whose client left before it began is over already: no `close` is to come.
      if (ctx.body instanceof Readable && !ctx.res.closed) {
        const { remoteAddress } = ctx.req.socket;
        ctx.res.once('close', () => record(ctx, requestId, started, remoteAddress));
      } else {
        record(ctx, requestId, started);
      }
    }
  };

  function record(ctx: Context, requestId: string, started: number, remoteAddress?: string): void {
    const seconds = (performance.now() - started) / 1_000;
    const route = (ctx as { _matchedRoute?: string })._matchedRoute ?? 'unmatched';
    metrics.observeRequest(route, ctx.method, ctx.status, seconds);
    // Built only when it will be written: this runs on every request.
    if (logger.isLevelEnabled('info')) {
      logger.info(
        { requestId, method: ctx.method, url: ctx.url, status: ctx.status, durationMs: Math.round(seconds * 1e5) / 100, remoteAddress: remoteAddress ?? ctx.req.socket.remoteAddress },
        'request',
      );
    }
  }
}
