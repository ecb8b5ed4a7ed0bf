import Bree from 'bree';
import { constants } from 'node:fs';
import { access, mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import type { CollectorConfig, StoreConfig } from '../config.js';
import type { Logger } from '../log.js';
import type { JobInput, JobMessage } from './job-messages.js';
import { HeldPoints } from './held.js';
import { RunLog } from './run-log.js';
import { emptyStats, type CollectorStats } from './stats.js';
import { clockSetBack, tickAfterMs, tickTakenAtMs } from './ticks.js';

const JOB = 'collect';
/** How long stop() waits for a run to finish or cancel before ending its thread. */
const STOP_GRACE_MS = 3_000;
/** A collector alone in its process collects its own heap after this many runs. */
export const RUNS_PER_MAIN_COLLECTION = 10;

export interface Collector {
  /** Counters for the metrics endpoint. */
  readonly stats: CollectorStats;
  /** Cancels the running job (its point stays spooled) and stops ticking. */
  stop(): Promise<void>;
}

export interface CollectorOptions {
  /**
   * The collector is all its process does (the `collect` command). Each run leaves
   * a few KB of garbage in this thread (the `Worker` object and its streams and
   * ports), and V8, seeing so little allocation, promotes it and collects its old
   * generation rarely: resident memory rose 7 MiB over an hour at one run a second.
   * So every RUNS_PER_MAIN_COLLECTION runs this thread collects, about 18 ms of
   * CPU. Not with the API in the same process, whose own allocation keeps V8
   * collecting.
   */
  readonly alone?: boolean;
}

/**
 * Runs the collect job in a Bree worker thread on every tick aligned to the
 * interval since the epoch (a one-minute tick fires at second :00). Bree's own
 * intervals drift by the time each run takes; here every tick is computed afresh
 * from the clock, and the tick is handed to the run as the point's timestamp.
 * Runs never overlap: Bree ends a run after `timeoutMs`, shorter than the interval.
 */
export async function startCollector(
  collector: CollectorConfig,
  store: StoreConfig,
  logger: Logger,
  { alone = false }: CollectorOptions = {},
): Promise<Collector> {
  const log = logger.child({ component: 'collector' });
  // Threads started from now on have `gc`, which a run on SQLite calls before it
  // ends (job.ts). The flag reaches only contexts created after it is set.
  setFlagsFromString('--expose-gc');
  const input: { -readonly [K in keyof JobInput]: JobInput[K] } = { collector, store, tickMs: 0, held: [], moreHeld: false };
  const held = new HeldPoints(collector.spoolMaxPoints);
  const stats = emptyStats();
  const state = new RunLog(log, stats);
  let runEndReported = false;
  const bundle = fileURLToPath(new URL(`../job/${store.kind}.cjs`, import.meta.url));
  // Bree checks a job's file only when handed its path; handed code, it cannot.
  await access(bundle, constants.R_OK).catch((error: unknown) => {
    throw new Error(`cannot read the collector's run ${bundle} (\`npm run build\` makes it)`, { cause: error });
  });
  const bree = new Bree({
    root: false,
    logger: breeLogger(log),
    jobs: [
      {
        name: JOB,
        // The store's entry (jobs/) bundled with what it imports into one CommonJS
        // file (`npm run build:job`): a run is a fresh thread, and one file costs it
        // less to load than every module; an ES module would first start Node's ESM
        // loader in the thread, about 4 ms of CPU at every run; and one bundle of all
        // three stores' code cost a run 5 to 9 ms more after a rest of 30 s (paired
        // by hand: bench/FINDINGS.md, collector footprint).
        path: requireCode(bundle),
        closeWorkerAfterMs: collector.timeoutMs,
        worker: { eval: true, workerData: input, ...runExecArgv(process.execArgv) },
      },
    ],
    workerMessageHandler: ({ message }: { message: unknown }) => {
      if (typeof message !== 'object' || message === null) return;
      const jobMessage = message as JobMessage;
      // The run was handed its share of the held points, and took its own unless it handed it back.
      state.record(jobMessage, input.held.length + (jobMessage.sample === undefined ? 1 : 0));
      // The next run delivers what this one could not save, before its own point.
      state.recordHeld(held.settle(jobMessage), held.size);
      ({ points: input.held, more: input.moreHeld } = held.hand());
      // Spooled or held, a point taken is one the collector still answers for; a run
      // that could not read meminfo took none, and the healthcheck is to say so.
      if (jobMessage.type === 'failed' && !jobMessage.sampled) return;
      void beat(collector.heartbeatPath).then(
        () => state.recordHeartbeat(),
        (error: unknown) => state.recordHeartbeat(error),
      );
    },
    errorHandler: (error: unknown) => {
      // Bree reports a crash twice, the thread's error and then its exit code: one run.
      if (runEndReported) return;
      runEndReported = true;
      state.recordAbnormalEnd(error, collector.timeoutMs);
    },
  });
  // Validates the job now rather than at the first tick (typed only as a comment in Bree's d.ts).
  await (bree as unknown as { init(): Promise<void> }).init();
  if (alone) {
    // From a new context: this thread's own was made before the flag was set.
    const collectGarbage = runInNewContext('gc') as () => void;
    let runsSinceCollection = 0;
    // After the thread is gone, so that its run's objects are garbage by then.
    bree.on('worker deleted', () => {
      if (++runsSinceCollection < RUNS_PER_MAIN_COLLECTION) return;
      runsSinceCollection = 0;
      setImmediate(() => {
        const heapBefore = getHeapStatistics().used_heap_size;
        collectGarbage();
        log.debug({ heapBefore, heapAfter: getHeapStatistics().used_heap_size }, "collected the main thread's heap");
      });
    });
  }

  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let lastTickMs = 0;
  const scheduleNext = (): void => {
    const tickMs = tickAfterMs(Date.now(), lastTickMs, collector.intervalMs);
    lastTickMs = tickMs;
    timer = setTimeout(() => {
      if (stopped) return;
      const nowMs = Date.now();
      if (clockSetBack(nowMs, tickMs)) {
        // Set back while this timer waited: sampled now, the point would carry a
        // time still to come. The tick is waited for again, by the clock as it is.
        log.warn({ tickMs, clockMs: nowMs }, 'the clock was set back; ticks follow it');
      } else if (bree.workers.has(JOB)) {
        log.warn({ tickMs }, 'previous run still going, tick skipped');
      } else {
        // Bree copies workerData at each run: this run samples for this tick, or for
        // a later one when this timer fired a whole interval or more after its own.
        input.tickMs = tickTakenAtMs(tickMs, nowMs, collector.intervalMs);
        lastTickMs = input.tickMs;
        if (input.tickMs > tickMs) log.warn({ tickMs, takenAtTickMs: input.tickMs }, 'tick taken late (the clock set forward, the machine suspended, or this process held up); its point carries the tick it was taken at');
        runEndReported = false;
        void bree.run(JOB);
      }
      scheduleNext();
    }, tickMs - Date.now());
  };
  scheduleNext();
  log.info({ intervalMs: collector.intervalMs, host: collector.host, store: store.kind }, 'collector started');

  return {
    stats,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      const worker = bree.workers.get(JOB);
      if (worker) {
        const grace = setTimeout(() => void worker.terminate(), STOP_GRACE_MS);
        await bree.stop(JOB);
        clearTimeout(grace);
      }
      if (held.size > 0) log.error({ lost: held.size }, 'stopped with points neither the store nor the spool took: they are lost');
      log.info('collector stopped');
    },
  };
}

/**
 * The node options of a run's thread. Source maps cost each thread ~5 ms of CPU at
 * start, and a run reports errors as messages, not stacks, so they are left out
 * when that is all the process was started with. Given any other option, the
 * thread inherits the process's options instead, source maps included: a thread
 * refuses V8 and process-wide options in `execArgv` (`--max-old-space-size`,
 * `--expose-gc`), and a tick would crash the collector.
 */
function runExecArgv(processExecArgv: readonly string[]): { execArgv?: string[] } {
  return processExecArgv.every((flag) => flag === '--enable-source-maps') ? { execArgv: [] } : {};
}

/**
 * A run's code, for a worker thread that evaluates it: a `require` of its bundle.
 * Bree takes a path holding any of `( ) [ ] { } * ? ! # $ % & + = ^ | < >` and a few
 * more (its is-invalid-path) for code, not a file, so from a checkout such as `~/R&D/` or
 * `memory-tracker (copy)` every run failed with a SyntaxError, and nothing was
 * stored. Handed code, Bree runs it whatever the bundle's path holds.
 */
function requireCode(bundle: string): string {
  return `require(${JSON.stringify(bundle)})`;
}

/** Marks that a run took its point (stored, spooled or held): the container healthcheck reads it. */
async function beat(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${new Date().toISOString()}\n`);
}

/** Bree reports every worker start and finish at info: those are debug here. */
function breeLogger(log: Logger) {
  return {
    info: (message: unknown) => log.debug({ bree: true }, String(message)),
    warn: (message: unknown) => log.warn({ bree: true }, String(message)),
    error: (message: unknown) => log.error({ bree: true }, String(message)),
  };
}
