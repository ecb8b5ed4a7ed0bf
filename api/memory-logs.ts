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
    sendJson(ctx, 200, typeof body === 'string' ? body : await streamed(body));
  };
}

/**
 * A streamed page as a body. Its first piece is read before the answer begins: a
 * store failing at once still gets its error answer (503), and the store's generator
 * has begun, so that returning it runs its `finally`. One never begun does not: a
 * HEAD request, whose body Koa never reads, left its page's SQLite read transaction
 * or InfluxDB connection open for good.
 */
async function streamed(pieces: AsyncIterable<string>): Promise<Readable> {
  const iterator = pieces[Symbol.asyncIterator]();
  const first = await iterator.next();
  const body = Readable.from(rest(first, iterator), { objectMode: false });
  // Read to its end, failed, or destroyed unread (HEAD, a client gone): the store lets
  // go of the page. A failure to let go comes after the answer, with nothing to answer.
  body.once('close', () => void iterator.return?.().catch(() => undefined));
  return body;
}

/**
 * The pieces from `first` on, a failure to read one marked as the store's: once the
 * answer began, it reaches Koa's error event, where a client that hung up does too.
 */
async function* rest(first: IteratorResult<string>, iterator: AsyncIterator<string>): AsyncGenerator<string> {
  for (let next = first; next.done !== true; ) {
    yield next.value;
    try {
      next = await iterator.next();
    } catch (error) {
      throw new PageCutShortError(error);
    }
  }
}
