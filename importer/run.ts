import { createInterface } from 'node:readline';
import { ImportFileError } from '../errors.js';
import type { MemoryStore, MemoryPoint } from '../storage/types.js';
import { CsvLines, parseJsonLine, parseLineProtocol, type ImportFormat, type LineResult } from './parse.js';
import type { ImportSource } from './source.js';

export interface ImportSummary {
  readonly lines: number;
  /** Points the store stored. */
  readonly points: number;
  /** Points the store dropped as older than its retention policy keeps (InfluxDB). */
  readonly beyondRetention: number;
  readonly hosts: number;
  readonly bad: number;
  readonly skipped: number;
  /** Why the input could not be read past `afterLine` (a cut gzip file, a read error): the points before it are imported. */
  readonly unreadable: { readonly afterLine: number; readonly reason: string } | undefined;
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
 * Streams points into the store, in batches. A point already there (same host and
 * timestamp) is overwritten with the same values: importing twice changes nothing.
 * Bad lines are reported with their number and skipped; a CSV header without the
 * needed columns (the first line that is not blank) ends the import with
 * ImportFileError. The store is opened for the first batch and closed here, so
 * input without a single point never touches it.
 */
export async function importPoints(source: ImportSource, openStore: () => Promise<MemoryStore>, options: ImportOptions): Promise<ImportSummary> {
  const csv = new CsvLines(options.defaultHost);
  const parse = (line: string): LineResult =>
    options.format === 'csv' ? csv.parse(line) : options.format === 'jsonl' ? parseJsonLine(line, options.defaultHost) : parseLineProtocol(line, options.defaultHost);
  const hosts = new Set<string>();
  let store: MemoryStore | undefined;
  let batch: MemoryPoint[] = [];
  let [lines, points, beyondRetention, bad, skipped] = [0, 0, 0, 0, 0];
  let unreadable: ImportSummary['unreadable'];
  let lastProgress = Date.now();
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    store ??= await openStore();
    const receipt = await store.write(batch);
    points += batch.length - receipt.beyondRetention;
    beyondRetention += receipt.beyondRetention;
    batch = [];
    if (Date.now() - lastProgress >= PROGRESS_EVERY_MS) {
      options.onProgress(lines, points);
      lastProgress = Date.now();
    }
  };
  const input = createInterface({ input: source.bytes, crlfDelay: Infinity })[Symbol.asyncIterator]();
  try {
    for (;;) {
      let next: IteratorResult<string>;
      try {
        next = await input.next();
      } catch (error) {
        // The input failed, not the store: the points read before it are still imported.
        unreadable = { afterLine: lines, reason: (error as Error).message };
        break;
      }
      if (next.done) break;
      lines++;
      // A UTF-8 byte order mark (as Excel and Windows editors write) is not part of the data.
      const line = lines === 1 && next.value.startsWith('\uFEFF') ? next.value.slice(1) : next.value;
      const result = parse(line);
      if (result.kind === 'point') {
        batch.push(result.point);
        hosts.add(result.point.host);
        if (batch.length >= BATCH) await flush();
      } else if (result.kind === 'unreadable') {
        throw new ImportFileError(`${source.name}:${lines}: ${result.reason}`);
      } else if (result.kind === 'bad') {
        bad++;
        options.onBadLine(lines, result.reason);
      } else {
        skipped++;
      }
    }
    await flush();
  } finally {
    source.bytes.destroy();
    await store?.close();
  }
  return { lines, points, beyondRetention, hosts: hosts.size, bad, skipped, unreadable };
}
