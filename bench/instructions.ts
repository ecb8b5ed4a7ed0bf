/**
 * Instructions per request: each bare Koa floor and the API's SQLite small page run
 * under valgrind's callgrind, which counts the instructions a process executes, not
 * the time it takes; the same code and requests give the same count within about
 * 1%, whatever else the machine is doing, where the throughput benchmark's ratios
 * drift by tens of percent between runs. Each server is warmed up uncounted, then
 * counted over a fixed number of requests (autocannon, 10 connections). Prints two
 * Markdown tables. Needs valgrind (Debian's `valgrind`).
 *
 *   npm run bench:instructions -- [requests=5000]
 *
 * Kernel work (the sockets) is not counted, and under callgrind a process runs tens
 * of times slower, so work done per interval of time rather than per request (the
 * store's check of its file every 10 ms, timers) weighs more on each request than it
 * does at full speed: the API's count errs high.
 *
 * callgrind also simulates the machine's first-level caches and a branch predictor,
 * and the second table gives their misses per request on the main thread:
 * instructions alone do not tell the time of different code (a tight loop runs many
 * cheaply), and a miss costs many instructions' time.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AUTOCANNON, BARE_KOA_LABELS, runtimeLabel, seedYear, startApiProcess, startBareKoa, type BareKoaKind, type Launcher, type ServerProcess } from './fixtures.js';
import { leaveNothingBehind, temporaryDirectory } from './leftovers.js';

leaveNothingBehind();

const requests = Number(process.argv[2] ?? 5_000);
/**
 * Requests before counting starts, enough for V8 to have optimised the hot path, in
 * WARM_UP_RUNS runs of autocannon: when the first run's connections close and the
 * next run's open, V8 optimises part of Node's socket code again (about 40
 * functions for the API); counted right after one run, that compilation fell in
 * the count, up to 13 thousand instructions a request over 3,000 requests.
 */
const WARM_UP_REQUESTS = 10_000;
const WARM_UP_RUNS = 2;
/** A process under callgrind starts tens of times slower. */
const START_TIMEOUT_MS = 120_000;

interface Count {
  target: string;
  /** Instructions per request on the main thread, where the requests are answered. */
  mainThread: number;
  /** The same over all threads: V8's background compilation and garbage collection too. */
  allThreads: number;
  /** Per request on the main thread, by callgrind's simulation of the machine's caches and of a branch predictor. */
  misses: Misses;
}

interface Misses {
  /** Instruction fetches that missed the first-level instruction cache. */
  instructionCache: number;
  /** Reads and writes that missed the first-level data cache. */
  dataCache: number;
  /** Conditional and indirect branches the simulated predictor got wrong. */
  branches: number;
}

/** callgrind's event counts of one thread's file, by event name (`Ir`, `I1mr`, ...). */
function eventTotals(file: string): Map<string, number> | undefined {
  const names = /^events: (.+)$/m.exec(file)?.[1]?.split(' ');
  const totals = /^totals: (.+)$/m.exec(file)?.[1]?.split(' ').map(Number);
  return names && totals ? new Map(names.map((name, i) => [name, totals[i] ?? 0])) : undefined;
}

if (spawnSync('valgrind', ['--version']).error) {
  console.error('valgrind not found: install it (Debian: apt-get install valgrind)');
  process.exit(1);
}

/** Runs autocannon to the end: `count` requests over 10 connections. */
async function requestsTo(url: string, count: number): Promise<void> {
  const child = spawn(process.execPath, [AUTOCANNON, '-c', '10', '-a', String(count), url], { stdio: 'ignore' });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`autocannon exited with ${code}`);
}

function callgrindControl(pid: number, instrumentation: 'on' | 'off'): void {
  const { status } = spawnSync('callgrind_control', ['-i', instrumentation, String(pid)], { stdio: 'ignore' });
  if (status !== 0) throw new Error(`callgrind_control -i ${instrumentation} failed`);
}

/**
 * A server under callgrind, counting nothing until warmed up, then `requests`
 * requests to its `url`; the counts by thread, from callgrind's files (one per
 * thread, `-01` the main one).
 */
async function count(target: string, start: (launcher: Launcher) => Promise<ServerProcess & { url: string }>): Promise<Count> {
  const dir = await temporaryDirectory('mt-bench-callgrind-');
  const out = join(dir, 'callgrind.out');
  const server = await start({
    command: ['valgrind', '-q', '--tool=callgrind', '--cache-sim=yes', '--branch-sim=yes', '--instr-atstart=no', '--separate-threads=yes', `--callgrind-out-file=${out}`],
    startTimeoutMs: START_TIMEOUT_MS,
  });
  try {
    for (let run = 0; run < WARM_UP_RUNS; run++) await requestsTo(server.url, WARM_UP_REQUESTS / WARM_UP_RUNS);
    callgrindControl(server.pid, 'on');
    await requestsTo(server.url, requests);
    callgrindControl(server.pid, 'off');
  } finally {
    // callgrind writes its files as the server ends.
    await server.stop();
  }
  const threads = new Map<string, Map<string, number>>();
  for (const file of await readdir(dir)) {
    const totals = eventTotals(await readFile(join(dir, file), 'utf8'));
    if (totals !== undefined) threads.set(file, totals);
  }
  const all = [...threads.values()].reduce((sum, totals) => sum + (totals.get('Ir') ?? 0), 0);
  const main = threads.get('callgrind.out-01');
  const perRequest = (...events: string[]): number => (main ? events.reduce((sum, event) => sum + (main.get(event) ?? 0), 0) : NaN) / requests;
  return {
    target,
    mainThread: perRequest('Ir'),
    allThreads: all / requests,
    misses: { instructionCache: perRequest('I1mr'), dataCache: perRequest('D1mr', 'D1mw'), branches: perRequest('Bcm', 'Bim') },
  };
}

const counts: Count[] = [];
for (const kind of ['array', 'text'] as BareKoaKind[]) {
  counts.push(await count(BARE_KOA_LABELS[kind], (launcher) => startBareKoa(kind, launcher)));
}
const dir = await temporaryDirectory('mt-bench-instructions-');
const sqlitePath = join(dir, 'year.sqlite');
await seedYear({ kind: 'sqlite', path: sqlitePath, timeoutMs: 5_000 });
counts.push(
  await count('SQLite, limit=10', async (launcher) => {
    const api = await startApiProcess({ STORE: 'sqlite', SQLITE_PATH: sqlitePath }, { launcher });
    return { ...api, url: `http://127.0.0.1:${api.port}/memory-logs/?limit=10` };
  }),
);

const api = counts.at(-1)!;
const thousands = (n: number): string => (n / 1_000).toFixed(1);
console.log(`Instructions per request (callgrind), ${requests} requests after ${WARM_UP_REQUESTS} uncounted in ${WARM_UP_RUNS} runs, ${new Date().toISOString().slice(0, 10)}, ${runtimeLabel()}\n`);
console.log('| target | main thread (thousands) | all threads (thousands) | this / the API, main thread | this / the API, all threads |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const c of counts) {
  console.log(`| ${c.target} | ${thousands(c.mainThread)} | ${thousands(c.allThreads)} | ${(c.mainThread / api.mainThread).toFixed(2)} | ${(c.allThreads / api.allThreads).toFixed(2)} |`);
}
console.log(`\nCache and branch misses per request, main thread (callgrind's simulation of this machine's first-level caches and of a branch predictor), same runs\n`);
console.log('| target | L1 instruction cache misses | L1 data cache misses | mispredicted branches | each, this / the API |');
console.log('| --- | ---: | ---: | ---: | ---: |');
/** The table's columns, in order. */
const MISS_KINDS: ReadonlyArray<keyof Misses> = ['instructionCache', 'dataCache', 'branches'];
for (const c of counts) {
  const perRequest = MISS_KINDS.map((kind) => c.misses[kind].toFixed(0)).join(' | ');
  const ratios = MISS_KINDS.map((kind) => (c.misses[kind] / api.misses[kind]).toFixed(2)).join(', ');
  console.log(`| ${c.target} | ${perRequest} | ${ratios} |`);
}
