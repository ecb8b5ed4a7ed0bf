import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { pointProblem } from '../storage/point.js';
import type { MemoryPoint } from '../storage/types.js';

export interface SpoolContents {
  readonly points: MemoryPoint[];
  /** Lines that were not a valid point (a torn write from a crash), skipped. */
  readonly skippedLines: number;
  /** False when the file must be rewritten before appending (skipped lines, no final newline). */
  readonly clean: boolean;
}

/**
 * The durable queue of points the store has not acknowledged: JSON lines in one
 * file, oldest first. Appends are fsynced before they return; removals rewrite the
 * file to a temporary one and rename it over, so a crash at any moment leaves the
 * old or the new file, never a mix. Re-sending a point after a crash is harmless:
 * the store overwrites the same host and timestamp.
 *
 * Synchronous file calls, as in the spool's lock: a run is a thread of its own, so
 * they block nothing else, and loading the promise API and running it the first
 * time cost each fresh thread more CPU than the spool's own work.
 */
export class Spool {
  readonly path: string;

  constructor(
    private readonly dir: string,
    /** Past this, the oldest points are dropped (and counted by the caller). */
    private readonly maxPoints: number,
  ) {
    this.path = join(dir, 'points.jsonl');
  }

  read(): SpoolContents {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { points: [], skippedLines: 0, clean: true };
      throw error;
    }
    const points: MemoryPoint[] = [];
    let skippedLines = 0;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const point = parsePoint(line);
      if (point) points.push(point);
      else skippedLines++;
    }
    return { points, skippedLines, clean: skippedLines === 0 && (text === '' || text.endsWith('\n')) };
  }

  /**
   * Appends `points` after `existing` (what read() returned) and keeps the newest
   * maxPoints. Returns how many of the oldest were dropped to make room.
   */
  append(existing: SpoolContents, points: readonly MemoryPoint[]): number {
    const overflow = existing.points.length + points.length - this.maxPoints;
    if (overflow > 0 || !existing.clean) {
      // Rewriting drops the oldest and cleans out a torn tail in one go.
      const kept = [...existing.points, ...points].slice(Math.max(0, overflow));
      this.replace(kept);
      return Math.max(0, overflow);
    }
    mkdirSync(this.dir, { recursive: true });
    writeSynced(this.path, 'a', points);
    return 0;
  }

  /** Makes `points` the whole spool, atomically. */
  replace(points: readonly MemoryPoint[]): void {
    mkdirSync(this.dir, { recursive: true });
    const temporary = `${this.path}.tmp`;
    writeSynced(temporary, 'w', points);
    renameSync(temporary, this.path);
    syncDirectory(this.dir);
  }
}

/** Writes `points` as lines to `path` (appended, or the whole file) and fsyncs them before returning. */
function writeSynced(path: string, flags: 'a' | 'w', points: readonly MemoryPoint[]): void {
  const file = openSync(path, flags);
  try {
    writeAll(file, Buffer.from(points.map(toLine).join('')));
    fsyncSync(file);
  } finally {
    closeSync(file);
  }
}

/** writeSync may write less than it is given (a disk filling up): it is called until all is written. */
function writeAll(file: number, bytes: Buffer): void {
  for (let written = 0; written < bytes.length; ) written += writeSync(file, bytes, written);
}

function toLine({ host, timestamp, total, free, used }: MemoryPoint): string {
  return `${JSON.stringify({ host, timestamp, total, free, used })}\n`;
}

function parsePoint(line: string): MemoryPoint | undefined {
  try {
    const { host, timestamp, total, free, used } = JSON.parse(line) as MemoryPoint;
    const point = { host, timestamp, total, free, used };
    return pointProblem(point) === undefined ? point : undefined;
  } catch {
    return undefined;
  }
}

/** Makes a rename durable: the directory entry itself must reach the disk. */
function syncDirectory(dir: string): void {
  const handle = openSync(dir, 'r');
  try {
    fsyncSync(handle);
  } finally {
    closeSync(handle);
  }
}
