import Router from '@koa/router';
import Koa, { type Context, type Middleware } from 'koa';
import type { Registry } from 'prom-client';
import type { ApiConfig } from '../config.js';
import type { Logger } from '../log.js';
import { apiMetrics, instrumentStore } from '../metrics.js';
import type { MemoryStore } from '../storage/types.js';
import { VERSION } from '../version.js';
import { loadAssets, type Asset } from './assets.js';
import { basicAuth } from './basic-auth.js';
import { hostsRoute } from './hosts.js';
import { requestFrame } from './frame.js';
import { MethodNotAllowedError, NotFoundError, PageCutShortError } from './http-errors.js';
import { memoryLogsRoute } from './memory-logs.js';
import { openApiDocument } from './openapi.js';
import { healthz, metricsRoute, readyz } from './probes.js';
import { rateLimit } from './rate-limit.js';
import { routePath } from './route-path.js';
import { sendJson } from './respond.js';

export interface AppDeps {
  readonly store: MemoryStore;
  readonly logger: Logger;
  readonly api: ApiConfig;
  /** Sizes the readiness check's freshness limit and the chart's page. */
  readonly collectIntervalMs: number;
  /** Where the API's metrics go; /metrics serves all of it (the collector's too in `all`). */
  readonly registry: Registry;
  /** True once a shutdown began: new requests get 503 while in-flight ones finish. */
  readonly draining?: () => boolean;
}

/** Probes stay open whatever auth or rate limit is configured. */
export const OPEN_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

/** What a write to a connection the client closed fails with. */
const CLIENT_GONE_CODES: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE', 'ERR_STREAM_PREMATURE_CLOSE']);

/** Every route serves GET (and HEAD, which Koa answers from GET without a body). */
const ALLOWED_METHODS = ['GET', 'HEAD'] as const;

/** Builds the Koa app: middleware order and routes. Never listens. */
export function buildApp({ store, logger, api, collectIntervalMs, registry, draining = () => false }: AppDeps): Koa {
  const app = new Koa();
  const timedStore = instrumentStore(store, registry);
  const openApi = JSON.stringify(openApiDocument(VERSION));
  const routes: Record<string, Middleware> = {
    '/memory-logs/': memoryLogsRoute(timedStore),
    '/hosts/': hostsRoute(timedStore),
    '/healthz': healthz,
    '/readyz': readyz(timedStore, collectIntervalMs),
    '/metrics': metricsRoute(registry),
    '/openapi.json': (ctx) => sendJson(ctx, 200, openApi),
  };
  for (const [path, asset] of loadAssets(collectIntervalMs)) routes[path] = serveAsset(asset);

  // Paths are exact, as in the original: `/memory-logs` redirects, `/Memory-Logs/` is 404.
  // GET routes only (Koa answers HEAD from them): other methods fall through to
  // `unrouted`, so that each request is matched against as few layers as possible.
  const router = new Router({ strict: true, sensitive: true });
  for (const [path, route] of Object.entries(routes)) router.get(path, route);

  // Errors after the headers went out (a streamed page cut short) reach Koa itself,
  // each twice: from the page's pipeline, and from the response it destroyed.
  // A client hanging up mid-page is its own business, not a failure of ours.
  const metrics = apiMetrics(registry);
  const reported = new WeakSet<Error>();
  app.on('error', (error: Error, ctx?: Context) => {
    if (reported.has(error)) return;
    reported.add(error);
    const request = ctx && { requestId: ctx.res.getHeader('X-Request-Id'), method: ctx.method, url: ctx.url };
    if (error instanceof PageCutShortError) {
      metrics.countPageCutShort();
      logger.error({ err: error, ...request }, 'page cut short: the store failed after its answer began, and the client got it broken off');
    } else if (CLIENT_GONE_CODES.has((error as { code?: unknown }).code as string)) {
      logger.debug({ err: error, ...request }, 'client left before its answer was sent');
    } else {
      logger.error({ err: error, ...request }, 'response failed after its headers were sent');
    }
  });
  app.use(requestFrame({ logger, metrics, draining }));
  if (api.rateLimit) app.use(rateLimit(api.rateLimit, api.trustedProxies, OPEN_PATHS));
  if (api.basicAuth) app.use(basicAuth(api.basicAuth, OPEN_PATHS));
  app.use(router.routes());
  app.use(unrouted(new Set(Object.keys(routes))));
  return app;
}

function serveAsset(asset: Asset): Middleware {
  return (ctx) => {
    ctx.set('Cache-Control', asset.cacheControl);
    ctx.set('Content-Type', asset.type);
    ctx.body = asset.body;
  };
}

/**
 * What no route took: another method on a known path is 405; a path that is a route
 * once a trailing slash is added, or its trailing slashes taken off, answers 307 to
 * it with the same query, as Starlette's `redirect_slashes` does; anything else is
 * 404.
 */
function unrouted(paths: ReadonlySet<string>): Middleware {
  return (ctx) => {
    const path = routePath(ctx);
    if (paths.has(path)) throw new MethodNotAllowedError(ALLOWED_METHODS);
    const target = path.endsWith('/') ? path.replace(/\/+$/, '') : `${path}/`;
    if (!paths.has(target)) throw new NotFoundError(`no route for ${path}`);
    const location = relativeTo(ctx.path, target);
    ctx.status = 307;
    ctx.set('Location', ctx.querystring === '' ? location : `${location}?${ctx.querystring}`);
    // An empty body, like Starlette's redirect (Koa would otherwise write a message).
    ctx.body = '';
    ctx.remove('Content-Type');
  };
}

/**
 * `target` (a route's path) as a reference relative to the path asked for, as sent
 * (`memory-logs/` from `/memory-logs`, `../healthz` from `/healthz/`): it climbs to
 * the root of the API's own paths and no further, so that it stays right behind
 * proxies that change the scheme (TLS) or strip a path prefix (`/memory/memory-logs`).
 * No route's first segment holds a colon, which would read as a scheme.
 */
function relativeTo(sentPath: string, target: string): string {
  // One `../` for each slash after the first.
  return `${'../'.repeat(sentPath.split('/').length - 2)}${target.slice(1)}`;
}
