import type { RouterContext } from '@koa/router';
import type { Context } from 'koa';
import { unquote } from './query-string.js';

/**
 * Routes match the path percent-decoded, as the original's server (uvicorn) handed
 * Starlette its `scope["path"]`: `/memory%2Dlogs/` is `/memory-logs/`. @koa/router
 * matches `newRouterPath` ahead of Koa's raw `path`. The decoded path goes there
 * rather than into `ctx.path`, whose setter rewrites the URL: a decoded `?` would
 * then begin the query.
 */
export function decodeRoutePath(ctx: Context): void {
  const { path } = ctx;
  if (path.includes('%')) (ctx as RouterContext).newRouterPath = unquote(path);
}

/** The path as routes see it: decoded (decodeRoutePath). */
export function routePath(ctx: Context): string {
  return (ctx as RouterContext).newRouterPath ?? ctx.path;
}
