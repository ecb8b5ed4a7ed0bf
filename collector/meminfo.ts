import { MeminfoParseError } from '../errors.js';

/** One reading, in whole MiB. */
export interface MemoryReading {
  readonly total: number;
  readonly free: number;
  readonly used: number;
}

const LINE = /^([A-Za-z0-9_()]+):\s*(\d+)(?:\s+kB)?\s*$/;
const NEEDED = ['MemTotal', 'MemAvailable', 'MemFree', 'Buffers', 'Cached'] as const;
type Needed = (typeof NEEDED)[number];
const KIB_PER_MIB = 1024;

/**
 * Turns the text of `/proc/meminfo` into a reading. Pure: no file, no clock.
 * - total = MemTotal;
 * - free = MemAvailable, the kernel's estimate of memory available to new work
 *   without swapping; kernels before 3.14 lack it, and there free = MemFree +
 *   Buffers + Cached, the classic estimate;
 * - used = total - free.
 * Values are KiB in the file and are floored to MiB, used computed after flooring
 * so that used + free = total always holds. A missing or malformed needed field
 * throws MeminfoParseError: a zero would be a plausible-looking lie.
 */
export function parseMeminfo(text: string): MemoryReading {
  const kib = new Map<Needed, number>();
  for (const line of text.split('\n')) {
    const name = line.slice(0, line.indexOf(':'));
    if (!(NEEDED as readonly string[]).includes(name)) continue;
    const match = LINE.exec(line);
    if (!match) throw new MeminfoParseError(`meminfo: malformed line "${line.slice(0, 80)}"`);
    if (kib.has(name as Needed)) throw new MeminfoParseError(`meminfo: ${name} appears twice`);
    kib.set(name as Needed, Number(match[2]));
  }
  const totalKiB = kib.get('MemTotal');
  if (totalKiB === undefined) throw new MeminfoParseError('meminfo: no MemTotal line');
  if (totalKiB === 0) throw new MeminfoParseError('meminfo: MemTotal is 0');
  const freeKiB = kib.get('MemAvailable') ?? classicAvailable(kib);
  if (freeKiB > totalKiB) {
    throw new MeminfoParseError(`meminfo: available memory (${freeKiB} kB) exceeds MemTotal (${totalKiB} kB)`);
  }
  const total = Math.floor(totalKiB / KIB_PER_MIB);
  const free = Math.floor(freeKiB / KIB_PER_MIB);
  return { total, free, used: total - free };
}

function classicAvailable(kib: ReadonlyMap<Needed, number>): number {
  const missing = (['MemFree', 'Buffers', 'Cached'] as const).filter((name) => !kib.has(name));
  if (missing.length > 0) {
    throw new MeminfoParseError(`meminfo: no MemAvailable, and no ${missing.join(', ')} to estimate it from`);
  }
  return kib.get('MemFree')! + kib.get('Buffers')! + kib.get('Cached')!;
}
