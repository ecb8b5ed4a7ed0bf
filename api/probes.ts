import type { Middleware } from 'koa';
import type { Registry } from 'prom-client';
import type { MemoryStore } from '../storage/types.js';
import { sendJson } from './respond.js';

/** `GET /healthz`: the process is up and serving; says nothing of the store. */
export const healthz: Middleware = (ctx) => {
  ctx.set('Cache-Control', 'no-store');
  sendJson(ctx, 200, '{"status":"ok"}');
};

/** How /readyz names a store's failure, by its error's code; any other is `failing`. */
const STORE_STATES: Readonly<Record<string, string>> = { STORE_UNAVAILABLE: 'unreachable', STORE_REFUSED: 'refused' };

/**
 * `GET /readyz`: the store answers and its newest point is younger than two
 * collection intervals. 200 or 503, naming each check's result.
 */
export function readyz(store: MemoryStore, collectIntervalMs: number): Middleware {
  const maxAgeSeconds = (2 * collectIntervalMs) / 1_000;
  return async (ctx) => {
    const checks: { store: string; freshness: string } = { store: 'ok', freshness: 'ok' };
    try {
      await store.health();
      const newest = (await store.listHosts())[0];
      const ageSeconds = newest === undefined ? undefined : Math.floor(Date.now() / 1_000) - newest.latestTimestamp;
      if (ageSeconds === undefined) checks.freshness = 'no points yet';
      else if (ageSeconds > maxAgeSeconds) checks.freshness = `newest point is ${ageSeconds} s old (limit ${maxAgeSeconds} s)`;
    } catch (error) {
      const code = (error as { code?: string } | undefined)?.code ?? 'error';
      checks.store = `${STORE_STATES[code] ?? 'failing'} (${code})`;
      checks.freshness = 'unknown';
    }
    const ready = checks.store === 'ok' && checks.freshness === 'ok';
    ctx.set('Cache-Control', 'no-store');
    sendJson(ctx, ready ? 200 : 503, JSON.stringify({ status: ready ? 'ready' : 'not ready', checks }));
  };
}

/** `GET /metrics`: Prometheus text format. */
export function metricsRoute(registry: Registry): Middleware {
  return async (ctx) => {
    const text = await registry.metrics();
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Content-Type', registry.contentType);
    ctx.body = text;
  };
}
