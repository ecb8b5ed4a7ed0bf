import Router from '@koa/router';
import Koa, { type Middleware } from 'koa';
import type { Logger } from '../log.js';
import type { MemoryStore } from '../storage/types.js';
import { handleErrors } from './errors.js';
import { hostsRoute } from './hosts.js';
import type { ApiConfig } from '../config.js';
import { basicAuth } from './basic-auth.js';
import { MethodNotAllowedError, NotFoundError, ShuttingDownError } from './http-errors.js';
import { rateLimit } from './rate-limit.js';
import { memoryLogsRoute } from './memory-logs.js';
import { sendJson } from './respond.js';

export interface AppDeps {
  readonly store: MemoryStore;
  readonly logger: Logger;
  readonly api: ApiConfig;
  /** True once a shutdown began: new requests get 503 while in-flight ones finish. */
  readonly draining?: () => boolean;
}

/** Probes stay open whatever auth or rate limit is configured. */
export const OPEN_PATHS: ReadonlySet<string> = new Set(['/healthz']);

/** Every route serves GET (and HEAD, which Koa answers from GET without a body). */
const ALLOWED_METHODS = ['GET', 'HEAD'] as const;

/** Builds the Koa app: middleware order and routes. Never listens. */
export function buildApp({ store, logger, api, draining = () => false }: AppDeps): Koa {
  const app = new Koa();
  // Paths are exact, as in the original: `/memory-logs` redirects, `/Memory-Logs/` is 404.
  const router = new Router({ strict: true, sensitive: true });
  const routes: Record<string, Middleware> = {
    '/memory-logs/': memoryLogsRoute(store),
    '/hosts/': hostsRoute(store),
    '/healthz': healthz,
  };
  for (const [path, route] of Object.entries(routes)) {
    router.get(path, route);
    router.all(path, rejectMethod);
  }

  // Errors after the headers went out (a streamed page cut short) reach Koa itself.
  app.on('error', (error: unknown) => logger.error({ err: error }, 'response failed after its headers were sent'));
  app.use(handleErrors(logger));
  app.use(securityHeaders);
  app.use(async (ctx, next) => {
    if (draining()) throw new ShuttingDownError('shutting down');
    await next();
  });
  if (api.rateLimit) app.use(rateLimit(api.rateLimit, api.trustedProxies, OPEN_PATHS));
  if (api.basicAuth) app.use(basicAuth(api.basicAuth, OPEN_PATHS));
  app.use(router.routes());
  app.use(redirectOrNotFound(new Set(Object.keys(routes))));
  return app;
}

/** The process is up and serving; says nothing of the store (that is readiness). */
const healthz: Middleware = (ctx) => {
  ctx.set('Cache-Control', 'no-store');
  sendJson(ctx, 200, '{"status":"ok"}');
};

const rejectMethod: Middleware = () => {
  throw new MethodNotAllowedError(ALLOWED_METHODS);
};

const securityHeaders: Middleware = async (ctx, next) => {
  ctx.set('X-Content-Type-Options', 'nosniff');
  await next();
};

/**
 * What no route matched: a known path missing its trailing slash answers 307 to
 * the slashed path with the same query, as FastAPI does (relative, so it stays
 * right behind TLS-terminating proxies); anything else is 404.
 */
function redirectOrNotFound(paths: ReadonlySet<string>): Middleware {
  return (ctx) => {
    const slashed = `${ctx.path}/`;
    if (!paths.has(slashed)) throw new NotFoundError(`no route for ${ctx.path}`);
    ctx.status = 307;
    ctx.set('Location', ctx.querystring === '' ? slashed : `${slashed}?${ctx.querystring}`);
    // An empty body, like Starlette's redirect (Koa would otherwise write a message).
    ctx.body = '';
    ctx.remove('Content-Type');
  };
}
