import type { Spool } from '../../collector/spool.js';
import type { MemoryPoint } from '../../storage/types.js';

/** Every point the spool queues, oldest first, read as a replay reads them. */
export function spooledPoints(spool: Spool): MemoryPoint[] {
  return [...spool.batches(1_000)].flatMap((batch) => batch.points);
}
