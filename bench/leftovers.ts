import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { childPids, isRunning } from './proc-stats.js';

/**
 * How long the processes a benchmark started get to end on SIGTERM before SIGKILL:
 * the API drains, influxd closes its files, callgrind writes its counts.
 */
const GRACE_MS = 5_000;

/** Directories to remove when the benchmark ends, however it ends. */
const directories = new Set<string>();

/** A new temporary directory, removed when the benchmark ends (see leaveNothingBehind). */
export async function temporaryDirectory(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  directories.add(dir);
  return dir;
}

/** A directory made by something else the benchmark started (influxd's), removed with the rest. */
export function removeAtEnd(dir: string): void {
  directories.add(dir);
}

/**
 * Makes the benchmark end the processes it started (the API, bare Koa, influxd,
 * autocannon, the collector) and remove its temporary directories when it ends
 * early. Ctrl-C signals the whole process group, but `kill PID`, `timeout` or an
 * error midway end the benchmark alone, and those processes would run on for good,
 * holding ports and a year of points on disk. On SIGINT, SIGTERM or SIGHUP the
 * benchmark exits as a shell reports a signal's end (128 + its number).
 */
export function leaveNothingBehind(): void {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => process.exit(128 + constants.signals[signal]));
  }
  // Synchronous, so that it also runs when an error ends the process; after a
  // normal end it finds nothing left.
  process.on('exit', () => {
    endChildren();
    for (const dir of directories) rmSync(dir, { recursive: true, force: true });
  });
}

/** SIGTERM to every process this one started, then SIGKILL to any still running after GRACE_MS. */
function endChildren(): void {
  const children = childPids(process.pid);
  signalEach(children, 'SIGTERM');
  const deadline = Date.now() + GRACE_MS;
  while (children.some(isRunning) && Date.now() < deadline) sleepSync(50);
  signalEach(children.filter(isRunning), 'SIGKILL');
}

function signalEach(pids: readonly number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // It ended meanwhile.
    }
  }
}

/** Blocks the thread: an exit listener cannot wait for a timer. */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
