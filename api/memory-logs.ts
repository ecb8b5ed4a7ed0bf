import type { Middleware } from 'koa';
import { Readable } from 'node:stream';
import type { MemoryStore } from '../storage/types.js';
import { parseQueryString } from './query-string.js';
import { sendJson } from './respond.js';
import { parseMemoryLogsQuery } from './validation.js';

/** `GET /memory-logs/`: parse the query, read the page, answer JSON. Nothing else. */
export function memoryLogsRoute(store: MemoryStore): Middleware {
  return async (ctx) => {
    const query = parseMemoryLogsQuery(parseQueryString(ctx.querystring));
    const body = await store.listJson(query);
    ctx.set('Cache-Control', 'no-store');
    sendJson(ctx, 200, typeof body === 'string' ? body : Readable.from(body, { objectMode: false }));
  };
}
