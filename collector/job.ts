/**
 * The Bree job, run in a worker thread once per tick: sample -> lock the spool ->
 * deliver (write, or spool) -> report to the parent -> 'done'. Talks to the parent
 * only by messages; answers Bree's 'cancel' by aborting store requests and keeping
 * what was not acknowledged in the spool. Started from one entry per store
 * (`jobs/`), which hands it that store's opener.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { StoreConfig } from '../config.js';
import type { MemoryPoint, MemoryStore } from '../storage/index.js';
import { deliver, UnsavedPointsError } from './collect.js';
import type { JobInput, JobMessage } from './job-messages.js';
import { readSample } from './sample.js';
import { Spool } from './spool.js';
import { lockSpool } from './spool-lock.js';

export interface JobStore<K extends StoreConfig['kind']> {
  /**
   * Opens the store without failing for one that is down (as `openStore` does): a
   * SQLite file locked or not a database, or a server that cannot be reached,
   * refuses the write, and the point is spooled like any other the store did not take.
   */
  readonly open: (config: Extract<StoreConfig, { kind: K }>) => MemoryStore | Promise<MemoryStore>;
  /** Runs a full garbage collection before the thread ends (see jobs/sqlite.ts). */
  readonly collectBeforeEnd?: boolean;
}

// A function rather than top-level await: the job is bundled as CommonJS (`npm run
// build:job`, which also gives the bundled modules that read `import.meta.url` the
// bundle's own), and CommonJS has none. A rejection still ends the thread with an
// error, which Bree reports.
export async function runJob<K extends StoreConfig['kind']>({ open, collectBeforeEnd = false }: JobStore<K>): Promise<void> {
  const { collector, store: storeConfig, tickMs, held, moreHeld } = workerData as JobInput<K>;
  const port = parentPort!;
  const cancel = new AbortController();
  port.on('message', (message) => {
    if (message === 'cancel') cancel.abort();
  });

  const post = (message: JobMessage): void => port.postMessage(message);
  const startedMs = Date.now();
  // Store requests end well before Bree's hard timeout, leaving time to spool.
  const signal = AbortSignal.any([cancel.signal, AbortSignal.timeout(Math.max(1, Math.floor(collector.timeoutMs * 0.75)))]);

  const store = await open(storeConfig);
  // What a failure leaves unsaved: the held points, and this run's once sampled
  // unless it goes back to the scheduler.
  let points = held;
  let handedBack: { sample?: MemoryPoint } = {};
  let sampled = false;
  try {
    const sample = readSample(collector.procRoot, collector.host, Math.floor(tickMs / 1_000));
    sampled = true;
    if (moreHeld) handedBack = { sample };
    else points = [...held, sample];
    const releaseSpool = await lockSpool(collector.spoolDir, `host ${collector.host}`, collector.timeoutMs, signal);
    try {
      const report = await deliver(points, {
        store,
        spool: new Spool(collector.spoolDir, collector.spoolMaxPoints),
        signal,
        replayUntilMs: startedMs + collector.timeoutMs / 2,
      });
      post({ type: 'report', tickMs, report, cancelled: cancel.signal.aborted, ...handedBack });
    } finally {
      releaseSpool();
    }
  } catch (error) {
    // Some may have reached the store or the spool before the failure: sent again, they are overwritten with the same values.
    const unsaved = error instanceof UnsavedPointsError ? { unsaved: error.points, report: error.report } : { unsaved: points };
    post({ type: 'failed', tickMs, code: (error as { code?: string }).code ?? 'UNEXPECTED', message: (error as Error).message, sampled, ...unsaved, ...handedBack });
  } finally {
    await store.close();
  }
  // Once closing has dropped the store: the scheduler gives its threads `gc`.
  if (collectBeforeEnd) (globalThis as { gc?: () => void }).gc?.();
  // 'done' also after a cancel: the work is wrapped up, and Bree answers 'cancelled'
  // by terminating the thread, which it then reports as a crash (exit code 1).
  port.postMessage('done');
}
