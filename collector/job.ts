/**
 * The Bree job, run in a worker thread once per tick: sample -> lock the spool ->
 * deliver (write, or spool) -> report to the parent -> 'done'. Talks to the parent
 * only by messages; answers Bree's 'cancel' by aborting store requests and keeping
 * what was not acknowledged in the spool.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openStore } from '../storage/index.js';
import { deliver } from './collect.js';
import type { JobInput, JobMessage } from './job-messages.js';
import { readSample } from './sample.js';
import { Spool } from './spool.js';
import { lockSpool } from './spool-lock.js';

// A function rather than top-level await: the job is bundled as CommonJS (`npm run
// build:job`, which also gives the bundled modules that read `import.meta.url` the
// bundle's own), and CommonJS has none. A rejection still ends the thread with an
// error, which Bree reports.
async function run(): Promise<void> {
  const { collector, store: storeConfig, tickMs } = workerData as JobInput;
  const port = parentPort!;
  const cancel = new AbortController();
  port.on('message', (message) => {
    if (message === 'cancel') cancel.abort();
  });

  const post = (message: JobMessage): void => port.postMessage(message);
  const startedMs = Date.now();
  // Store requests end well before Bree's hard timeout, leaving time to spool.
  const signal = AbortSignal.any([cancel.signal, AbortSignal.timeout(Math.max(1, Math.floor(collector.timeoutMs * 0.75)))]);

  // A store that cannot be opened (a SQLite file locked or not a database) refuses
  // the write, and the point is spooled like any other the store did not take.
  const store = await openStore(storeConfig);
  try {
    const point = readSample(collector.procRoot, collector.host, Math.floor(tickMs / 1_000));
    const releaseSpool = await lockSpool(collector.spoolDir, `host ${collector.host}`, collector.timeoutMs, signal);
    try {
      const report = await deliver(point, {
        store,
        spool: new Spool(collector.spoolDir, collector.spoolMaxPoints),
        signal,
        replayUntilMs: startedMs + collector.timeoutMs / 2,
      });
      post({ type: 'report', tickMs, report });
    } finally {
      releaseSpool();
    }
  } catch (error) {
    post({ type: 'failed', tickMs, code: (error as { code?: string }).code ?? 'UNEXPECTED', message: (error as Error).message });
  } finally {
    await store.close();
  }
  // The SQLite driver (better-sqlite3 12) frees its connection's and statements'
  // native objects only when V8 collects their JavaScript wrappers, and a thread that
  // ends first never does: about 2 KB a run, for good (3 MiB a day at one run a
  // minute). So a run on SQLite collects before it ends (about 7 ms), once closing has
  // dropped the connection; the scheduler gives its threads `gc`.
  if (storeConfig.kind === 'sqlite') (globalThis as { gc?: () => void }).gc?.();
  // 'done' also after a cancel: the work is wrapped up, and Bree answers 'cancelled'
  // by terminating the thread, which it then reports as a crash (exit code 1).
  port.postMessage('done');
}

void run();
