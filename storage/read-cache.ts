import { BoundedMap } from '../bounded-map.js';
import { pageKey, STREAM_ABOVE_ROWS, type JsonBody, type ListQuery, type MemoryPoint, type MemoryStore, type RequestOptions, type WriteReceipt } from './types.js';

/**
 * Pages up to this many points are shared and remembered: whole texts (below
 * STREAM_ABOVE_ROWS; a stream could be read only once), small enough to keep many.
 */
const CACHED_MAX_LIMIT = Math.min(1_000, STREAM_ABOVE_ROWS);
/** Distinct pages remembered at once; the oldest goes first. At most about 16 MB (1,000 points of about 62 bytes each a page). */
const CACHED_PAGES = 256;

interface Entry {
  readonly body: Promise<JsonBody>;
  readonly expiresMs: number;
}

/**
 * Small pages of a store that other processes write to, remembered for `ttlMs`.
 * With InfluxDB every host's collector writes to the database directly, so the API
 * cannot know when a page changes (SQLite can, and keeps its own exact cache); a
 * query costs a round trip and InfluxDB's own per-query work even for 10 points.
 * - A page is at most `ttlMs` older than the request: a point written meanwhile
 *   shows up that much later, never lost.
 * - Requests for a page already being read wait for that read rather than start
 *   another (a dashboard's viewers, a load balancer's retries).
 * - Failures are not remembered; writes through this store forget every page.
 */
export function withReadCache(store: MemoryStore, ttlMs: number): MemoryStore {
  const pages = new BoundedMap<string, Entry>(CACHED_PAGES);
  return {
    async write(points: readonly MemoryPoint[], options?: RequestOptions): Promise<WriteReceipt> {
      try {
        return await store.write(points, options);
      } finally {
        pages.clear();
      }
    },
    listJson(query: ListQuery): Promise<JsonBody> {
      if (query.limit > CACHED_MAX_LIMIT) return store.listJson(query);
      const key = pageKey(query.limit, query.skip, query.host);
      const nowMs = performance.now();
      const cached = pages.get(key);
      if (cached !== undefined && cached.expiresMs > nowMs) return cached.body;
      const body = store.listJson(query);
      // Re-inserted, so that the Map's order stays oldest first.
      pages.delete(key);
      const entry: Entry = { body, expiresMs: nowMs + ttlMs };
      pages.set(key, entry);
      body.catch(() => {
        if (pages.get(key) === entry) pages.delete(key);
      });
      return body;
    },
    listHosts: () => store.listHosts(),
    health: () => store.health(),
    close: () => store.close(),
  };
}
