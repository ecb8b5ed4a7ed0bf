import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from '../log.js';
import type { ApiMetrics } from '../metrics.js';

const INCOMING_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Outermost: gives each request an id (the caller's `X-Request-Id` when it is a
 * sane one, in `ctx.state.requestId` for the error handler), one access line and
 * its metrics, whatever the outcome.
 */
export function accessLog(logger: Logger, metrics: ApiMetrics): Middleware {
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    const incoming = ctx.get('X-Request-Id');
    const requestId = INCOMING_ID.test(incoming) ? incoming : randomUUID();
    ctx.set('X-Request-Id', requestId);
    ctx.state.requestId = requestId;
    try {
      await next();
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = (ctx as { _matchedRoute?: string })._matchedRoute ?? 'unmatched';
      metrics.observeRequest(route, ctx.method, ctx.status, seconds);
      // Built only when it will be written: this runs on every request.
      if (logger.isLevelEnabled('info')) {
        logger.info(
          { requestId, method: ctx.method, url: ctx.url, status: ctx.status, durationMs: Math.round(seconds * 1e5) / 100, remoteAddress: ctx.req.socket.remoteAddress },
          'request',
        );
      }
    }
  };
}
