import { setImmediate } from 'node:timers/promises';
import { ImportFileError, ImportStoreFailedError } from '../errors.js';
import type { MemoryStore, MemoryPoint, WriteReceipt } from '../storage/types.js';
import type { LineResult } from './parse.js';

/** What the import reads, as one result per line (of text), record (of a JSON array) or row (of a SQLite table). */
export interface ImportInput {
  /** The file's name, or `(standard input)`. */
  readonly name: string;
  readonly unit: 'line' | 'record' | 'row';
  readonly results: AsyncIterator<LineResult>;
  /**
   * Lets go of the file, pipe or database, read to its end or not; called again, does
   * nothing. A read waiting on a pipe nobody writes to then ends, so an interrupted
   * import ends at once.
   */
  close(): Promise<void>;
}

export interface ImportSummary {
  /** Lines, records or rows read. */
  readonly read: number;
  /** Points the store stored. */
  readonly points: number;
  /** Points the store dropped as older than its retention policy keeps (InfluxDB). */
  readonly beyondRetention: number;
  readonly hosts: number;
  readonly bad: number;
  readonly skipped: number;
  /** Why the input could not be read past line, record or row `after` (a cut gzip file, a record that is not JSON, a read error): what came before is imported. */
  readonly unreadable: { readonly after: number; readonly reason: string } | undefined;
  /** The import's signal ended it before the input did: what was read before it is imported. */
  readonly interrupted: boolean;
}

export interface ImportOptions {
  /** Told each bad line, record or row; the import goes on. */
  readonly onBad: (position: number, reason: string) => void;
  /** Told now and then how far it got. */
  readonly onProgress: (read: number, points: number) => void;
  /** Ends the import early (a stop signal: SIGINT, SIGTERM, SIGHUP). */
  readonly signal?: AbortSignal;
}

const BATCH = 5_000;
const PROGRESS_EVERY_MS = 2_000;

/**
 * Streams points into the store, in batches. A point already there (same host and
 * timestamp) is overwritten with the same values: importing twice changes nothing.
 * Bad lines, records or rows are reported with their number and skipped; a CSV header
 * without the needed columns (the first line that is not blank) ends the import
 * with ImportFileError, a store's failure with ImportStoreFailedError. The store is
 * opened for the first batch and closed here, so input without a single point never
 * touches it.
 */
export async function importPoints(input: ImportInput, openStore: () => Promise<MemoryStore>, options: ImportOptions): Promise<ImportSummary> {
  const hosts = new Set<string>();
  let store: MemoryStore | undefined;
  let batch: MemoryPoint[] = [];
  let [read, points, beyondRetention, bad, skipped] = [0, 0, 0, 0, 0];
  let unreadable: ImportSummary['unreadable'];
  let lastProgress = Date.now();
  // The input read when the last batch was stored: everything before it is in the store.
  let storedThrough = 0;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    let receipt: WriteReceipt;
    try {
      store ??= await openStore();
      receipt = await store.write(batch);
    } catch (error) {
      throw new ImportStoreFailedError(input, points, storedThrough, error);
    }
    points += batch.length - receipt.beyondRetention;
    beyondRetention += receipt.beyondRetention;
    storedThrough = read;
    batch = [];
    if (Date.now() - lastProgress >= PROGRESS_EVERY_MS) {
      options.onProgress(read, points);
      lastProgress = Date.now();
    }
  };
  let interrupted = false;
  const stopped = (): boolean => (interrupted ||= options.signal?.aborted === true);
  const interrupt = (): void => void input.close();
  options.signal?.addEventListener('abort', interrupt, { once: true });
  try {
    // Checked before each read too: a signal before the import began interrupts no read.
    while (!stopped()) {
      let next: IteratorResult<LineResult>;
      try {
        next = await input.results.next();
      } catch (error) {
        if (stopped()) break;
        // The input failed, not the store: the points read before it are still imported.
        unreadable = { after: read, reason: (error as Error).message };
        break;
      }
      // Nothing after an interrupt: the line it cut short could read as a whole one.
      if (stopped() || next.done) break;
      read++;
      // Reading a SQLite file and writing to one never wait on anything, so without a
      // turn of the event loop now and then a signal would wait for the whole import.
      if (read % BATCH === 0) await setImmediate();
      const result = next.value;
      if (result.kind === 'point') {
        batch.push(result.point);
        hosts.add(result.point.host);
        if (batch.length >= BATCH) await flush();
      } else if (result.kind === 'unreadable') {
        throw new ImportFileError(`${input.name}:${read}: ${result.reason}`);
      } else if (result.kind === 'bad') {
        bad++;
        options.onBad(read, result.reason);
      } else {
        skipped++;
      }
    }
    await flush();
  } finally {
    options.signal?.removeEventListener('abort', interrupt);
    await input.close();
    await store?.close();
  }
  return { read, points, beyondRetention, hosts: hosts.size, bad, skipped, unreadable, interrupted };
}
