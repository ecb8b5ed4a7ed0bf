/**
 * Collector footprint: runs `memory-tracker collect` at a fast interval, on the
 * embedded store or on a private `influxd` (the Swarm stack's store, its own CPU and
 * memory not counted), next to a bare `node` process doing nothing, and reports resident
 * memory (median, max, its curve by tenths of the run and its slope after the
 * first tenth), the part of it only the process holds, and CPU time per sample.
 * For scale, two floors measured in the same run: the memory of a `node` process
 * that only loads the libraries the collector is built on (Bree, pino), and the CPU
 * an empty worker thread takes to start and end, the floor under every run. Not a
 * test: prints a Markdown table for the README.
 *
 *   npm run bench:collector -- [seconds=120] [interval=1s] [store=sqlite]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { loadConfig, type StoreConfig } from '../config.js';
import { ConfigError } from '../errors.js';
import { listRecords, openStore } from '../storage/index.js';
import { influxdAvailable } from '../test/helpers/influxd.js';
import { inheritedEnv, runtimeLabel, startInflux } from './fixtures.js';
import { cpuTimes, median, minorPageFaults, residentParts } from './proc-stats.js';
import { leaveNothingBehind, temporaryDirectory } from './leftovers.js';

const USAGE =
  'usage: npm run bench:collector -- [seconds=120] [interval=1s] [store=sqlite] (an interval as COLLECT_INTERVAL takes it: 1s, 60s, 1m; a store as STORE does: sqlite, influxdb)';
const seconds = Number(process.argv[2] ?? 120);
const interval = process.argv[3] ?? '1s';
const storeArgument = process.argv[4] ?? 'sqlite';
/** Ends the benchmark before it starts anything, saying why. */
function refuse(problem: string): never {
  console.error(`${problem}\n${USAGE}`);
  process.exit(2);
}
if (!Number.isSafeInteger(seconds) || seconds <= 0) refuse(`seconds: a whole number above 0, got "${process.argv[2]}"`);
// Checked by the collector's own config: a collector refusing its interval or store
// would otherwise show only as a failure midway.
const { intervalMs, storeKind } = ((): { intervalMs: number; storeKind: StoreConfig['kind'] } => {
  try {
    const config = loadConfig({ COLLECT_INTERVAL: interval, STORE: storeArgument });
    return { intervalMs: config.collector.intervalMs, storeKind: config.store.kind };
  } catch (error) {
    if (error instanceof ConfigError) refuse(error.message);
    throw error;
  }
})();
if (storeKind === 'influxdb' && !influxdAvailable()) refuse('store influxdb: no influxd to start here (Debian: apt-get install influxdb; or INFLUXD_BIN, its path)');

leaveNothingBehind();
const dir = await temporaryDirectory('mt-bench-collector-');
const store = await startStore();

const collector = spawn(process.execPath, [join(import.meta.dirname, '..', 'cli.js'), 'collect'], {
  env: { ...inheritedEnv(), ...store.env, DATA_DIR: dir, COLLECT_INTERVAL: interval, LOG_LEVEL: 'warn' },
  stdio: ['ignore', 'inherit', 'inherit'],
});
const idle = 'setInterval(() => {}, 1 << 30)';
const bare = spawn(process.execPath, ['-e', idle], { stdio: 'ignore' });
const resolvePackage = createRequire(import.meta.url).resolve;
const libraries = spawn(process.execPath, ['-e', `require(${JSON.stringify(resolvePackage('bree'))}); require(${JSON.stringify(resolvePackage('pino'))}); ${idle}`], { stdio: 'ignore' });

const processes = { collector, bare, libraries };
type Sampled = keyof typeof processes;
const rss: Record<Sampled, number[]> = { collector: [], bare: [], libraries: [] };
/** The private part of each sample in `rss`: what the process alone holds. */
const privateRss: Record<Sampled, number[]> = { collector: [], bare: [], libraries: [] };
/** When each collector sample was taken, in hours since the start. */
const sampledAtHours: number[] = [];
await sleep(2_000); // all three started and settled
const cpuStart = cpuTimes(collector.pid!);
const faultsStart = minorPageFaults(collector.pid!);
const startedMs = Date.now();
while (Date.now() - startedMs < seconds * 1_000) {
  sampledAtHours.push((Date.now() - startedMs) / 3_600_000);
  for (const [name, child] of Object.entries(processes) as [Sampled, ChildProcess][]) {
    const { totalMiB, privateMiB } = await residentParts(child.pid!);
    rss[name].push(totalMiB);
    privateRss[name].push(privateMiB);
  }
  await sleep(1_000);
}
const cpuEnd = cpuTimes(collector.pid!);
const faults = minorPageFaults(collector.pid!) - faultsStart;
const cpuUsed = cpuEnd.userMs + cpuEnd.systemMs - (cpuStart.userMs + cpuStart.systemMs);
const kernelUsed = cpuEnd.systemMs - cpuStart.systemMs;
await stop(collector);
await stop(bare);
await stop(libraries);

// An empty file of the kind a run is (CommonJS, see the scheduler): an ES module's
// thread also starts Node's ESM loader, which a run does not.
const EMPTY_WORKERS = 20;
const emptyWorkerMs: number[] = [];
const emptyWorkerFaults: number[] = [];
const emptyJob = join(dir, 'empty.cjs');
await writeFile(emptyJob, '');
for (let i = 0; i < EMPTY_WORKERS; i++) {
  const before = process.resourceUsage();
  await once(new Worker(emptyJob), 'exit');
  const after = process.resourceUsage();
  emptyWorkerMs.push((after.userCPUTime + after.systemCPUTime - before.userCPUTime - before.systemCPUTime) / 1_000);
  emptyWorkerFaults.push(after.minorPageFault - before.minorPageFault);
}

// Read back through the config the collector's own environment makes.
const written = await openStore(loadConfig({ ...store.env, DATA_DIR: dir }).store);
const samples = (await listRecords(written, { limit: 99_999, skip: 0 })).filter((r) => r.timestamp * 1_000 >= startedMs && r.timestamp * 1_000 < startedMs + seconds * 1_000).length;
await written.close();
await store.stop();

const third = Math.max(1, Math.floor(rss.collector.length / 3));
const early = median(rss.collector.slice(0, third));
const late = median(rss.collector.slice(-third));
// The curve, by tenths of the run: the first runs raise memory as Node maps in more
// of itself, so growth is measured after the first tenth, as a slope.
const tenthAt = (i: number): number => Math.round((i * rss.collector.length) / 10);
const tenths = Array.from({ length: 10 }, (_, i) => rss.collector.slice(tenthAt(i), tenthAt(i + 1))).filter((slice) => slice.length > 0).map(median);
const tenth = tenthAt(1);
const slopePerHour = leastSquaresSlope(sampledAtHours.slice(tenth), rss.collector.slice(tenth));
const bareMedian = median(rss.bare);
const perSample = cpuUsed / Math.max(1, samples);
const fmt = (n: number): string => n.toFixed(1);
console.log(`Collector footprint, ${seconds} s at COLLECT_INTERVAL=${interval}${store.title}, ${new Date().toISOString().slice(0, 10)}, ${runtimeLabel()}\n`);
console.log('| measure | collector | bare node | ratio / target |');
console.log('| --- | --- | --- | --- |');
console.log(`| resident memory, median (MiB) | ${fmt(median(rss.collector))} | ${fmt(bareMedian)} | ${(median(rss.collector) / bareMedian).toFixed(2)}x (target < 1.25x) |`);
console.log(`| resident memory of a node that only loads Bree and pino, median (MiB) | | ${fmt(median(rss.libraries))} | ${(median(rss.libraries) / bareMedian).toFixed(2)}x: the floor of the collector's libraries |`);
console.log(`| of the resident memory, private (heaps, stacks), median (MiB) | ${fmt(median(privateRss.collector))} | ${fmt(median(privateRss.bare))} | Bree and pino alone: ${fmt(median(privateRss.libraries))} |`);
console.log(`| of the resident memory, pages of files (the node binary, shared libraries), median (MiB) | ${fmt(median(sharedOf('collector')))} | ${fmt(median(sharedOf('bare')))} | Bree and pino alone: ${fmt(median(sharedOf('libraries')))} |`);
console.log(`| resident memory, max (MiB) | ${fmt(Math.max(...rss.collector))} | ${fmt(Math.max(...rss.bare))} | |`);
console.log(`| resident memory, first third -> last third (MiB) | ${fmt(early)} -> ${fmt(late)} | | growth ${fmt(Math.abs(late - early) < 0.05 ? 0 : late - early)} MiB |`);
console.log(`| private memory, first third -> last third (MiB) | ${fmt(median(privateRss.collector.slice(0, third)))} -> ${fmt(median(privateRss.collector.slice(-third)))} | | |`);
console.log(`| resident memory after the first tenth, least-squares slope (MiB per hour) | ${slopePerHour.toFixed(2)} | | |`);
console.log(`| samples stored | ${samples} | | |`);
console.log(`| CPU per sample, worker start included (ms) | ${fmt(perSample)} | | target < 80 ms |`);
console.log(`| of it in the kernel (ms) | ${fmt(kernelUsed / Math.max(1, samples))} | | |`);
console.log(`| minor page faults per sample (memory touched anew) | ${Math.round(faults / Math.max(1, samples))} | | |`);
console.log(`| CPU to start and end an empty worker thread, median of ${EMPTY_WORKERS} (ms) | | ${fmt(median(emptyWorkerMs))} | the floor of a run |`);
console.log(`| minor page faults to start and end an empty worker thread, median | | ${Math.round(median(emptyWorkerFaults))} | one thread after another, no rest |`);
// Measured only when the runs were a minute apart: a run a second after the last
// costs less than one a minute after it (bench/FINDINGS.md, collector footprint).
const shareHow = intervalMs === 60_000 ? 'measured' : `extrapolated from runs every ${interval}`;
console.log(`| CPU share at one sample a minute, ${shareHow} | ${((perSample / 60_000) * 100).toFixed(3)}% of a core | | target < 0.2% |`);
console.log(`\nCollector resident memory by tenth of the run, medians (MiB): ${tenths.map(fmt).join(', ')}`);

/** The collector's store: its environment, what the table's title adds (nothing for the default), and its end. */
interface BenchStore {
  readonly env: Record<string, string>;
  readonly title: string;
  /** Ends the server the store runs in, which would keep this script running. */
  stop(): Promise<void>;
}

/** A file in the run's directory, or a private influxd. */
async function startStore(): Promise<BenchStore> {
  if (storeKind === 'sqlite') return { env: { STORE: 'sqlite', SQLITE_PATH: join(dir, 'bench.sqlite') }, title: '', stop: async () => undefined };
  const influx = await startInflux();
  return { env: influx.env, title: " on STORE=influxdb (influxd's own CPU and memory not counted)", stop: () => influx.stop() };
}

/** Each sample's resident memory less its private part: pages of files. */
function sharedOf(name: Sampled): number[] {
  return rss[name].map((total, i) => total - privateRss[name][i]!);
}

/** The least-squares slope of ys over xs: the change of y per unit of x. */
function leastSquaresSlope(xs: readonly number[], ys: readonly number[]): number {
  if (xs.length < 2) return 0;
  const mean = (values: readonly number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length;
  const meanX = mean(xs);
  const meanY = mean(ys);
  let covariance = 0;
  let variance = 0;
  xs.forEach((x, i) => {
    covariance += (x - meanX) * (ys[i]! - meanY);
    variance += (x - meanX) ** 2;
  });
  return covariance / variance;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}
