import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
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

/**
 * Streams a file of points into the store, in batches. A point already there (same
 * host and timestamp) is overwritten with the same values: importing twice changes
 * nothing. Bad lines are reported with their number and skipped.
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
  for await (const line of createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity })) {
    lines++;
    const result = parse(line);
    if (result.kind === 'point') {
      batch.push(result.point);
      hosts.add(result.point.host);
      if (batch.length >= BATCH) await flush();
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
