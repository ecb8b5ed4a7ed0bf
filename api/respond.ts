import type { Context } from 'koa';
import type { Readable } from 'node:stream';

/**
 * Sends a JSON text as is. The header is set before the body so that Koa keeps it
 * exactly `application/json`, as the original service sent it; on the response
 * itself, because Koa's `ctx.set` builds arrays for each call and this runs on
 * every request.
 */
export function sendJson(ctx: Context, status: number, json: string | Readable): void {
  ctx.status = status;
  ctx.res.setHeader('Content-Type', 'application/json');
  ctx.body = json;
}
