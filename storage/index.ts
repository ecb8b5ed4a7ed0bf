import type { StoreConfig } from '../config.js';
import { InfluxStore } from './influx.js';
import { SqliteStore } from './sqlite.js';
import type { MemoryStore } from './types.js';

export type { HostSummary, ListQuery, MemoryPoint, MemoryRecord, MemoryStore } from './types.js';

/**
 * Opens the configured store. Nothing is asked of an InfluxDB server here: an
 * unreachable one is not fatal (the API answers 503, the collector spools), and
 * its database is created by the first write that finds it missing.
 */
export function openStore(config: StoreConfig): MemoryStore {
  return config.kind === 'sqlite' ? SqliteStore.open(config) : new InfluxStore(config);
}
