import type { Middleware } from 'koa';
import type { MemoryStore } from '../storage/types.js';
import { sendJson } from './respond.js';

/** `GET /hosts/`: every host with the timestamp of its newest point, newest first. */
export function hostsRoute(store: MemoryStore): Middleware {
  return async (ctx) => {
    const hosts = await store.listHosts();
    ctx.set('Cache-Control', 'no-store');
    sendJson(ctx, 200, JSON.stringify(hosts.map(({ host, latestTimestamp }) => ({ host, latest_timestamp: latestTimestamp }))));
  };
}
