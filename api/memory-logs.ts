import type { Middleware } from 'koa';
import { Readable } from 'node:stream';
import { BoundedMap } from '../bounded-map.js';
import type { ListQuery, MemoryStore } from '../storage/types.js';
import { PageCutShortError } from './http-errors.js';
import { parseQueryString } from './query-string.js';
import { sendJson } from './respond.js';
import { parseMemoryLogsQuery } from './validation.js';

/**
 * Valid query strings already parsed, newest last. Pollers repeat theirs, and on a
 * cached page parsing was a large share of a request's cost. Long strings are not
 * kept, so the map stays small whatever clients send.
 */
const PARSED_QUERIES = 512;
const PARSED_QUERY_MAX_CHARS = 256;

/** `GET /memory-logs/`: parse the query, read the page, answer JSON. Nothing else. */
export function memoryLogsRoute(store: MemoryStore): Middleware {
  const parsed = new BoundedMap<string, ListQuery>(PARSED_QUERIES);
  const parse = (raw: string): ListQuery => {
    let query = parsed.get(raw);
    if (query === undefined) {
      query = parseMemoryLogsQuery(parseQueryString(raw));
      if (raw.length <= PARSED_QUERY_MAX_CHARS) parsed.set(raw, query);
    }
    return query;
  };
  return async (ctx) => {
    const body = await store.listJson(parse(ctx.querystring));
    ctx.res.setHeader('Cache-Control', 'no-store');
    sendJson(ctx, 200, typeof body === 'string' ? body : Readable.from(failingAsCutShort(body), { objectMode: false }));
  };
}

/**
 * A streamed page's pieces, a failure to read one marked as the store's: once the
 * answer began, it reaches Koa's error event, where a client that hung up does too.
 * Only the reads are marked: an error the stream is destroyed with (the client's)
 * passes as it is, and ends the pieces all the same.
 */
async function* failingAsCutShort(pieces: AsyncIterable<string>): AsyncGenerator<string> {
  const iterator = pieces[Symbol.asyncIterator]();
  try {
    for (;;) {
      let next: IteratorResult<string>;
      try {
        next = await iterator.next();
      } catch (error) {
        throw new PageCutShortError(error);
      }
      if (next.done === true) return;
      yield next.value;
    }
  } finally {
    await iterator.return?.();
  }
}
