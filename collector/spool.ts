import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { pointProblem } from '../storage/point.js';
import type { MemoryPoint } from '../storage/types.js';

/** Points read from the spool, oldest first, for one write to the store. */
export interface SpoolBatch {
  readonly points: MemoryPoint[];
  /** Lines that were not a valid point (a torn write from a crash), skipped. */
  readonly skippedLines: number;
  /** The position after the batch's last line: what `removeBefore` takes once the store has them. */
  readonly end: number;
}

/** A new segment file is begun once the last one holds this many lines. */
export const SEGMENT_LINES = 1_000;

/** The spool of versions before segments: one file, copied into segments when found. */
const SINGLE_FILE = 'points.jsonl';
const SEGMENT_NAME = /^points-(\d{16})\.jsonl$/;
const HEAD_NAME = /^head-(\d{16})$/;

const segmentName = (start: number): string => `points-${String(start).padStart(16, '0')}.jsonl`;
const headName = (position: number): string => `head-${String(position).padStart(16, '0')}`;

/** A segment file: its lines are the positions from `start` up to (not including) `end`. */
interface Segment {
  readonly start: number;
  readonly end: number;
}

/** The spool's files as found, read without reading any segment but the last. */
interface Layout {
  readonly segments: readonly Segment[];
  /** The position of the oldest line still queued; every line before it is delivered or dropped. */
  readonly head: number;
  /** The head marker's file name, when there is one. */
  readonly headFile: string | undefined;
  /** The position the next appended line takes. */
  readonly end: number;
  /** The last segment ends in a line without its newline (a write torn by a crash). */
  readonly torn: boolean;
}

/**
 * The durable queue of points the store has not acknowledged: JSON lines, oldest
 * first, in segment files of up to SEGMENT_LINES lines. Each line has a position,
 * counted across segments; a segment is named by its first line's position, so a
 * segment's lines end where the next begins, and a marker file's name (`head-…`)
 * holds the position of the oldest line still queued.
 *
 * What a run does costs the same however much the spool holds: appending writes to
 * the last segment (or a new one), removing delivered or dropped lines renames the
 * marker and deletes whole segments behind it, and a replay reads only the segments
 * it sends. (One file, read whole and rewritten at each run, cost a run about 1.5 s
 * of CPU at a week of points a second, past the run's timeout: the runs that were
 * ended lost their points, and none had time left to replay.)
 *
 * Appends and new files are fsynced before they return, and the marker is renamed
 * (atomic) and its directory fsynced before any segment is deleted: a crash at any
 * moment leaves every undelivered line queued. Re-sending a point after a crash is
 * harmless: the store overwrites the same host and timestamp.
 *
 * Synchronous file calls, as in the spool's lock: a run is a thread of its own, so
 * they block nothing else, and loading the promise API and running it the first
 * time cost each fresh thread more CPU than the spool's own work.
 */
export class Spool {
  constructor(
    readonly dir: string,
    /** Past this, the oldest lines are dropped (and counted by the caller). */
    private readonly maxPoints: number,
  ) {}

  /** How many lines are queued: points, and any torn line not yet skipped. */
  size(): number {
    const { head, end } = this.layout();
    return end - head;
  }

  /**
   * Appends `points` and keeps the newest maxPoints lines. Returns how many of the
   * oldest were dropped to make room.
   */
  append(points: readonly MemoryPoint[]): number {
    mkdirSync(this.dir, { recursive: true });
    const { segments, head, end, torn } = this.layout();
    const lines = points.map(toLine);
    let appended = 0;
    const last = segments.at(-1);
    if (last !== undefined && last.end === end && last.end - last.start < SEGMENT_LINES) {
      appended = Math.min(lines.length, SEGMENT_LINES - (last.end - last.start));
      // A torn last line gets its newline, so that it stays one line (skipped when read).
      writeSynced(join(this.dir, segmentName(last.start)), 'a', (torn ? '\n' : '') + lines.slice(0, appended).join(''));
    }
    if (appended < lines.length) {
      for (; appended < lines.length; appended += SEGMENT_LINES) {
        writeSynced(join(this.dir, segmentName(end + appended)), 'w', lines.slice(appended, appended + SEGMENT_LINES).join(''));
      }
      syncDirectory(this.dir);
    }
    const overflow = end + lines.length - head - this.maxPoints;
    if (overflow <= 0) return 0;
    this.removeBefore(head + overflow);
    return overflow;
  }

  /** The queued points, oldest first, in batches of up to `size`; each segment is read when reached. */
  *batches(size: number): Generator<SpoolBatch> {
    const { segments, head } = this.layout();
    let points: MemoryPoint[] = [];
    let skippedLines = 0;
    for (const { start, end } of segments) {
      const lines = readFileSync(join(this.dir, segmentName(start)), 'utf8').split('\n');
      for (let position = Math.max(head, start); position < end; position++) {
        // A line missing from a segment cut short (by hand, or a failing disk) is skipped like a torn one.
        const point = parsePoint(lines[position - start] ?? '');
        if (point === undefined) skippedLines++;
        else points.push(point);
        if (points.length === size) {
          yield { points, skippedLines, end: position + 1 };
          points = [];
          skippedLines = 0;
        }
      }
    }
    const end = segments.at(-1)?.end ?? head;
    if (points.length > 0 || skippedLines > 0) yield { points, skippedLines, end };
  }

  /** Ends the queue's lines before `position`: delivered, or dropped past the bound. */
  removeBefore(position: number): void {
    const { segments, head, headFile } = this.layout();
    if (position <= head) return;
    const marker = join(this.dir, headName(position));
    if (headFile === undefined) closeSync(openSync(marker, 'w'));
    else renameSync(join(this.dir, headFile), marker);
    syncDirectory(this.dir);
    for (const { start, end } of segments) if (end <= position) unlinkSync(join(this.dir, segmentName(start)));
  }

  /**
   * The spool's files, once segments wholly behind the head are deleted and an
   * earlier version's spool file is taken in as the newest segments.
   */
  private layout(): Layout {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { segments: [], head: 0, headFile: undefined, end: 0, torn: false };
      throw error;
    }
    const layout = layoutOf(this.dir, names);
    // Wholly behind the head: left by a crash between the marker's rename and their deletion.
    const behindHead = layout.segments.filter(({ end }) => end <= layout.head);
    const earlierVersion = names.includes(SINGLE_FILE);
    if (behindHead.length === 0 && !earlierVersion) return layout;
    for (const { start } of behindHead) unlinkSync(join(this.dir, segmentName(start)));
    if (earlierVersion) this.adoptSingleFile(layout.end);
    return layoutOf(this.dir, readdirSync(this.dir));
  }

  /**
   * Copies an earlier version's spool file into segments from `start`, so that a
   * replay reads no more than a segment at a time; the file is deleted only once they
   * are durable (a crash before queues its lines twice, sent twice harmlessly).
   */
  private adoptSingleFile(start: number): void {
    const single = join(this.dir, SINGLE_FILE);
    const lines = readFileSync(single, 'utf8').split('\n');
    if (lines.at(-1) === '') lines.pop();
    for (let done = 0; done < lines.length; done += SEGMENT_LINES) {
      writeSynced(join(this.dir, segmentName(start + done)), 'w', lines.slice(done, done + SEGMENT_LINES).map((line) => `${line}\n`).join(''));
    }
    syncDirectory(this.dir);
    unlinkSync(single);
    syncDirectory(this.dir);
  }
}

function layoutOf(dir: string, names: readonly string[]): Layout {
  const starts = names.flatMap((name) => SEGMENT_NAME.exec(name)?.[1] ?? []).map(Number).sort((a, b) => a - b);
  const headFile = names.filter((name) => HEAD_NAME.test(name)).sort()[0];
  // Lines before the first segment are gone whatever the marker says (a segment deleted by hand).
  const head = Math.max(headFile === undefined ? 0 : Number(HEAD_NAME.exec(headFile)![1]), starts[0] ?? 0);
  const lastStart = starts.at(-1);
  if (lastStart === undefined) return { segments: [], head, headFile, end: head, torn: false };
  const lastText = readFileSync(join(dir, segmentName(lastStart)));
  const lastEnd = lastStart + countLines(lastText);
  const segments = starts.map((start, i) => ({ start, end: starts[i + 1] ?? lastEnd }));
  const torn = lastText.length > 0 && lastText[lastText.length - 1] !== NEWLINE;
  return { segments, head, headFile, end: Math.max(head, lastEnd), torn };
}

const NEWLINE = 0x0a;

/** Lines in a file's bytes, a last one without its newline included. */
function countLines(bytes: Buffer): number {
  let lines = 0;
  for (let at = bytes.indexOf(NEWLINE); at !== -1; at = bytes.indexOf(NEWLINE, at + 1)) lines++;
  return bytes.length > 0 && bytes[bytes.length - 1] !== NEWLINE ? lines + 1 : lines;
}

/** Writes `text` to `path` (appended, or the whole file) and fsyncs it before returning. */
function writeSynced(path: string, flags: 'a' | 'w', text: string): void {
  const file = openSync(path, flags);
  try {
    writeAll(file, Buffer.from(text));
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

/** Makes new, renamed or removed directory entries durable: the directory itself must reach the disk. */
function syncDirectory(dir: string): void {
  const handle = openSync(dir, 'r');
  try {
    fsyncSync(handle);
  } finally {
    closeSync(handle);
  }
}
