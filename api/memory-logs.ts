import type { Middleware } from 'koa';
import type { MemoryRecord, MemoryStore } from '../storage/types.js';
import { parseQueryString } from './query-string.js';
import { sendJson } from './respond.js';
import { parseMemoryLogsQuery } from './validation.js';

/** `GET /memory-logs/`: parse the query, read the page, answer JSON. Nothing else. */
export function memoryLogsRoute(store: MemoryStore): Middleware {
  return async (ctx) => {
    const query = parseMemoryLogsQuery(parseQueryString(ctx.querystring));
    const records = await store.list(query);
    ctx.set('Cache-Control', 'no-store');
    sendJson(ctx, 200, recordsToJson(records));
  };
}

/**
 * Exactly the original's body: compact, keys in this order. Built by hand since
 * pages hold up to 99,999 records and every value is a safe integer.
 */
export function recordsToJson(records: readonly MemoryRecord[]): string {
  let json = '[';
  for (let i = 0; i < records.length; i++) {
    const { timestamp, total, free, used } = records[i]!;
    json += `${i === 0 ? '' : ','}{"timestamp":${timestamp},"total":${total},"free":${free},"used":${used}}`;
  }
  return `${json}]`;
}
