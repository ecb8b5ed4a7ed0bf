import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { ImportFileError } from '../errors.js';
import type { MemoryStore, MemoryPoint } from '../storage/types.js';
import { CsvLines, parseJsonLine, parseLineProtocol, type ImportFormat, type LineResult } from './parse.js';

export interface ImportSummary {
  readonly lines: number;
  /** Points the store stored. */
  readonly points: number;
  /** Points the store dropped as older than its retention policy keeps (InfluxDB). */
  readonly beyondRetention: number;
  readonly hosts: number;
  readonly bad: number;
  readonly skipped: number;
}

export interface ImportOptions {
  readonly format: ImportFormat;
  readonly defaultHost: string;
  /** Told each bad line; the import goes on. */
  readonly onBadLine: (lineNumber: number, reason: string) => void;
  /** Told now and then how far it got. */
  readonly onProgress: (lines: number, points: number) => void;
}

const BATCH = 5_000;
const PROGRESS_EVERY_MS = 2_000;

/** Byte order marks of UTF-16 text (little- and big-endian), which the import does not read. */
const UTF16_MARKS: ReadonlyArray<readonly [number, number]> = [
  [0xff, 0xfe],
  [0xfe, 0xff],
];

/**
 * Throws ImportFileError for a file the import cannot read at all (missing, not
 * readable, UTF-16 text as Windows PowerShell 5 writes by default), before anything
 * else is opened: every line of it would be bad.
 */
export async function checkImportFile(path: string): Promise<void> {
  let first: Buffer;
  try {
    const file = await open(path);
    try {
      ({ buffer: first } = await file.read({ buffer: Buffer.alloc(2), position: 0 }));
    } finally {
      await file.close();
    }
  } catch (error) {
    throw new ImportFileError(`cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  if (UTF16_MARKS.some(([a, b]) => first[0] === a && first[1] === b)) {
    throw new ImportFileError(`${path} is UTF-16 text: save it as UTF-8 (iconv -f UTF-16 -t UTF-8)`);
  }
}

/**
 * Streams a file of points into the store, in batches. A point already there (same
 * host and timestamp) is overwritten with the same values: importing twice changes
 * nothing. Bad lines are reported with their number and skipped; a CSV header
 * without the needed columns (the first line that is not blank) ends the import
 * with ImportFileError before anything is written.
 */
export async function importFile(path: string, store: MemoryStore, options: ImportOptions): Promise<ImportSummary> {
  const csv = new CsvLines(options.defaultHost);
  const parse = (line: string): LineResult =>
    options.format === 'csv' ? csv.parse(line) : options.format === 'jsonl' ? parseJsonLine(line, options.defaultHost) : parseLineProtocol(line, options.defaultHost);
  const hosts = new Set<string>();
  let batch: MemoryPoint[] = [];
  let [lines, points, beyondRetention, bad, skipped] = [0, 0, 0, 0, 0];
  let lastProgress = Date.now();
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const receipt = await store.write(batch);
    points += batch.length - receipt.beyondRetention;
    beyondRetention += receipt.beyondRetention;
    batch = [];
    if (Date.now() - lastProgress >= PROGRESS_EVERY_MS) {
      options.onProgress(lines, points);
      lastProgress = Date.now();
    }
  };
  for await (const text of createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity })) {
    lines++;
    // A UTF-8 byte order mark (as Excel and Windows editors write) is not part of the data.
    const line = lines === 1 && text.startsWith('\uFEFF') ? text.slice(1) : text;
    const result = parse(line);
    if (result.kind === 'point') {
      batch.push(result.point);
      hosts.add(result.point.host);
      if (batch.length >= BATCH) await flush();
    } else if (result.kind === 'unreadable') {
      throw new ImportFileError(`${path}:${lines}: ${result.reason}`);
    } else if (result.kind === 'bad') {
      bad++;
      options.onBadLine(lines, result.reason);
    } else {
      skipped++;
    }
  }
  await flush();
  return { lines, points, beyondRetention, hosts: hosts.size, bad, skipped };
}
