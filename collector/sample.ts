import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MemoryPoint } from '../storage/types.js';
import { parseMeminfo } from './meminfo.js';

/**
 * Reads `<procRoot>/meminfo` and tags the reading with the host and the tick.
 * Synchronous, as the spool's calls: a run is a thread of its own.
 */
export function readSample(procRoot: string, host: string, timestamp: number): MemoryPoint {
  const reading = parseMeminfo(readFileSync(join(procRoot, 'meminfo'), 'utf8'));
  return { host, timestamp, ...reading };
}
