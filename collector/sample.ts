import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MemoryPoint } from '../storage/types.js';
import { parseMeminfo } from './meminfo.js';

/** Reads `<procRoot>/meminfo` and tags the reading with the host and the tick. */
export async function readSample(procRoot: string, host: string, timestamp: number): Promise<MemoryPoint> {
  const reading = parseMeminfo(await readFile(join(procRoot, 'meminfo'), 'utf8'));
  return { host, timestamp, ...reading };
}
