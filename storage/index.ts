import type { StoreConfig } from '../config.js';
import { withReadCache } from './read-cache.js';
import type { ListQuery, MemoryRecord, MemoryStore } from './types.js';

export type { HostSummary, JsonBody, ListQuery, MemoryPoint, MemoryRecord, MemoryStore } from './types.js';

/**
 * Opens the configured store, loading only its implementation: the SQLite driver
 * would cost a process on InfluxDB memory and start-up time for nothing (a collector
 * run opens its store through its own entry, collector/jobs/). Never fails for a
 * store that is down: an unreachable InfluxDB server, or a SQLite file that cannot
 * be opened, fails each call instead (the API answers 503, the collector spools)
 * until it is back. InfluxDB's database is created by the first write that finds it
 * missing.
 */
export async function openStore(config: StoreConfig): Promise<MemoryStore> {
  switch (config.kind) {
    case 'sqlite':
      return (await import('./sqlite.js')).SqliteStore.open(config);
    case 'influxdb':
      return cached(new (await import('./influx.js')).InfluxStore(config), config.readCacheMs);
    case 'influxdb2':
      return cached(new (await import('./influx-v2.js')).InfluxV2Store(config), config.readCacheMs);
  }
}

function cached(store: MemoryStore, readCacheMs: number): MemoryStore {
  return readCacheMs > 0 ? withReadCache(store, readCacheMs) : store;
}

/** A page as records, for callers that compute on them rather than send them. */
export async function listRecords(store: MemoryStore, query: ListQuery): Promise<MemoryRecord[]> {
  const body = await store.listJson(query);
  if (typeof body === 'string') return JSON.parse(body) as MemoryRecord[];
  let text = '';
  for await (const piece of body) text += piece;
  return JSON.parse(text) as MemoryRecord[];
}
