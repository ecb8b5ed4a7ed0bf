/**
 * Throughput: autocannon in a second process on loopback, 10 connections for 10 s
 * each, against `GET /memory-logs/?limit=L` for L in 10, 1,000 and 99,999 on both
 * stores (a year of minute points), next to two bare Koa + @koa/router servers
 * answering a fixed 10-record array (handed to Koa as the array, as the performance
 * issue words its floor, and as fixed JSON text); the bare servers and SQLite
 * `limit=10` in rounds, each on fresh processes warmed up first and in an order that
 * alternates, whose ratios are printed, and in each round each bare server and the
 * API loaded at once at a fixed rate, whose CPU per request is compared.
 * Reports requests/s, p50/p99 latency, errors and the API's peak resident memory.
 * The API logs at warn; what its default level, info, costs (an access line per
 * request, read from a pipe and dropped, as a container runtime reads a service's
 * logs) is measured by loading both at once. Prints a Markdown table.
 *
 *   npm run bench:throughput -- [seconds=10]
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { influxdAvailable } from '../test/helpers/influxd.js';
import { AUTOCANNON, BARE_KOA_LABELS, type BareKoaKind, type BenchInflux, runtimeLabel, seedYear, startApiProcess, startBareKoa, startInflux } from './fixtures.js';
import { cpuTimes, median, residentMiB } from './proc-stats.js';
import { leaveNothingBehind, temporaryDirectory } from './leftovers.js';

leaveNothingBehind();

const seconds = Number(process.argv[2] ?? 10);
/** Rounds of bare Koa and the SQLite small page, one after another and at once. */
const ROUNDS = 5;
/**
 * Uncounted load on each server of a round before its counted runs: V8 compiles the
 * hot code meanwhile, which a round's first run would otherwise pay for alone.
 */
const WARM_UP_SECONDS = 2;
/** Requests/s for each of the two when loaded at once: well within what either sustains here. */
const FIXED_RATE = 3_000;

/** A server's own CPU time per answered request (µs), and the kernel's part of it. */
interface CpuPerRequest {
  /** User and system time of the server's own process (the API's, not `influxd`'s). */
  readonly all: number;
  /** System time, the kernel's work on the server's behalf: its sockets, above all. */
  readonly kernel: number;
}

interface Result {
  target: string;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  peakMiB: number;
  cpu: CpuPerRequest;
}

/**
 * One autocannon run in its own process, sampling the server's memory meanwhile: as
 * fast as the server answers, or at `rate` requests/s.
 */
async function load(target: string, url: string, pid: number, rate?: number, runSeconds = seconds): Promise<Result> {
  const pace = rate === undefined ? ['-c', '10'] : ['-c', '5', '-R', String(rate)];
  const child = spawn(process.execPath, [AUTOCANNON, ...pace, '-d', String(runSeconds), '-j', url], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  let peakMiB = await residentMiB(pid);
  const cpuBefore = cpuTimes(pid);
  const sampler = setInterval(() => {
    residentMiB(pid).then((mib) => (peakMiB = Math.max(peakMiB, mib)), () => undefined);
  }, 100);
  await once(child, 'exit');
  clearInterval(sampler);
  const cpuAfter = cpuTimes(pid);
  const report = JSON.parse(out) as { requests: { average: number; total: number }; latency: { p50: number; p99: number }; errors: number; non2xx: number; timeouts: number };
  const answered = Math.max(1, report.requests.total);
  return {
    target,
    requestsPerSecond: report.requests.average,
    p50: report.latency.p50,
    p99: report.latency.p99,
    errors: report.errors + report.non2xx + report.timeouts,
    peakMiB,
    cpu: {
      all: ((cpuAfter.userMs + cpuAfter.systemMs - cpuBefore.userMs - cpuBefore.systemMs) * 1_000) / answered,
      kernel: ((cpuAfter.systemMs - cpuBefore.systemMs) * 1_000) / answered,
    },
  };
}

/** A server to load: where to ask and whose CPU to read. */
interface Target {
  readonly url: string;
  readonly pid: number;
}

/** Two servers loaded at the same time, at FIXED_RATE each: their CPU per request. */
async function cpuAtOnce(a: Target, b: Target): Promise<[CpuPerRequest, CpuPerRequest]> {
  const [runA, runB] = await Promise.all([load('a', a.url, a.pid, FIXED_RATE), load('b', b.url, b.pid, FIXED_RATE)]);
  return [runA.cpu, runB.cpu];
}

/** The median run of several, by requests/s. */
function medianRun(runs: Result[]): Result {
  return [...runs].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond)[Math.floor(runs.length / 2)]!;
}

const results: Result[] = [];
const dir = await temporaryDirectory('mt-bench-load-');
const sqlitePath = join(dir, 'year.sqlite');
await seedYear({ kind: 'sqlite', path: sqlitePath, timeoutMs: 5_000 });
const sqliteEnv = { STORE: 'sqlite', SQLITE_PATH: sqlitePath };

// The floors and the API's small page in rounds: this machine class's speed drifts
// by tens of percent within minutes, and the ratio is the target. Each round starts
// its servers anew: a process keeps its own speed for as long as it runs, up to 7%
// apart from another's of the same build (by hand, six API processes), and one
// process for every round would count its luck in each.
interface FloorRounds {
  kind: BareKoaKind;
  /** The API's requests/s over the floor's, by round. */
  ratios: number[];
  /** The floor's CPU per request over the API's: the share of its rate the API's own work allows. */
  cpuRatios: number[];
  /** CPU per request of both (bare Koa's first), loaded at the same time at FIXED_RATE each. */
  fixedRateCpu: Array<[CpuPerRequest, CpuPerRequest]>;
}
const floors: FloorRounds[] = (['array', 'text'] as const).map((kind) => ({ kind, ratios: [], cpuRatios: [], fixedRateCpu: [] }));
/** CPU per request of the API at LOG_LEVEL=warn and at info (in that order), loaded at the same time at FIXED_RATE each. */
const accessLogCpu: Array<[CpuPerRequest, CpuPerRequest]> = [];
const smallPage = (port: number): string => `http://127.0.0.1:${port}/memory-logs/?limit=10`;

/** Loads each fresh server for WARM_UP_SECONDS, uncounted, one after another. */
async function warmUp(servers: Target[]): Promise<void> {
  for (const server of servers) await load('warm-up', server.url, server.pid, undefined, WARM_UP_SECONDS);
}
{
  const bareRuns: Result[][] = floors.map(() => []);
  const apiRuns: Result[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const bares = await Promise.all(floors.map(({ kind }) => startBareKoa(kind)));
    const api = await startApiProcess(sqliteEnv);
    const apiTarget = { url: smallPage(api.port), pid: api.pid };
    await warmUp([...bares, apiTarget]);
    // The API last in even rounds and first in odd ones: a drift within a round
    // favours neither side.
    const runFloors = async (): Promise<void> => {
      for (const [i, { kind }] of floors.entries()) bareRuns[i]!.push(await load(BARE_KOA_LABELS[kind], bares[i]!.url, bares[i]!.pid));
    };
    if (round % 2 === 1) apiRuns.push(await load('SQLite, limit=10', apiTarget.url, api.pid));
    await runFloors();
    if (round % 2 === 0) apiRuns.push(await load('SQLite, limit=10', apiTarget.url, api.pid));
    const apiRun = apiRuns[round]!;
    for (const [i, floor] of floors.entries()) {
      floor.ratios.push(apiRun.requestsPerSecond / bareRuns[i]![round]!.requestsPerSecond);
      floor.cpuRatios.push(bareRuns[i]![round]!.cpu.all / apiRun.cpu.all);
      // Each floor and the API at once, at a rate either sustains: whatever the
      // machine's speed does meanwhile, it does to both, so their CPU per request
      // compares without its drift.
      floor.fixedRateCpu.push(await cpuAtOnce(bares[i]!, apiTarget));
    }
    await api.stop();
    await Promise.all(bares.map((bare) => bare.stop()));
  }
  // The API at its default log level, info, which writes an access line per request,
  // loaded at once with the same API at warn, as the floors were.
  const api = await startApiProcess(sqliteEnv);
  const logged = await startApiProcess(sqliteEnv, { accessLog: true });
  const quiet = { url: smallPage(api.port), pid: api.pid };
  const talkative = { url: smallPage(logged.port), pid: logged.pid };
  await warmUp([quiet, talkative]);
  for (let round = 0; round < ROUNDS; round++) accessLogCpu.push(await cpuAtOnce(quiet, talkative));
  await logged.stop();
  await api.stop();
  results.push(...bareRuns.map(medianRun), medianRun(apiRuns));
}

const targets: Array<{ store: string; env: Record<string, string>; limits: number[] }> = [{ store: 'SQLite', env: sqliteEnv, limits: [1_000, 99_999] }];
let influx: BenchInflux | undefined;
if (influxdAvailable()) {
  influx = await startInflux();
  await seedYear(influx.config);
  const { env } = influx;
  const limits = [10, 1_000, 99_999];
  targets.push({ store: 'InfluxDB 1.6', env, limits }, { store: 'InfluxDB 1.6, INFLUX_READ_CACHE=0', env: { ...env, INFLUX_READ_CACHE: '0' }, limits });
} else {
  console.error('influxd not found: InfluxDB rows left out');
}
for (const { store, env, limits } of targets) {
  const api = await startApiProcess(env);
  for (const limit of limits) {
    results.push(await load(`${store}, limit=${limit}`, `http://127.0.0.1:${api.port}/memory-logs/?limit=${limit}`, api.pid));
  }
  await api.stop();
}
await influx?.stop();

console.log(
  `Throughput, autocannon -c 10 -d ${seconds}, ${new Date().toISOString().slice(0, 10)}, ${runtimeLabel()}, ${(await import('node:os')).cpus().length} cores, the API at LOG_LEVEL=warn\n`,
);
console.log('| target | requests/s | p50 (ms) | p99 (ms) | errors | peak RSS (MiB) | server CPU per request (µs) | of it in the kernel (µs) |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of results) {
  console.log(
    `| ${r.target} | ${r.requestsPerSecond.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.errors} | ${r.peakMiB.toFixed(0)} | ${r.cpu.all.toFixed(0)} | ${r.cpu.kernel.toFixed(0)} |`,
  );
}
const byRound = (values: number[]): string => `${values.map((r) => r.toFixed(2)).join(', ')}; median ${median(values).toFixed(2)}`;
/** A pair of CPU figures by round, e.g. `62 / 77` (µs per request), then the first's over the second's. */
const pairs = (rounds: Array<[CpuPerRequest, CpuPerRequest]>, part: keyof CpuPerRequest): string =>
  `${rounds.map(([a, b]) => `${a[part].toFixed(0)} / ${b[part].toFixed(0)}`).join(', ')}; ratio ${byRound(rounds.map(([a, b]) => a[part] / b[part]))}`;
console.log(`\nEach bare Koa floor and SQLite limit=10 ran in ${ROUNDS} rounds, each on fresh processes warmed up for ${WARM_UP_SECONDS} s, the API last and first in turn (their rows: the median round).`);
for (const { kind, ratios, cpuRatios, fixedRateCpu } of floors) {
  console.log(
    `\nAgainst ${BARE_KOA_LABELS[kind]}: SQLite limit=10 / bare Koa, by round: requests/s ${byRound(ratios)} (target >= 0.90); ` +
      `bare Koa's CPU per request / the API's ${byRound(cpuRatios)}. Both loaded at once, ${FIXED_RATE} requests/s each, ${ROUNDS} rounds: ` +
      `CPU per request (µs), bare Koa / SQLite limit=10 by round: ${pairs(fixedRateCpu, 'all')}; of it in the kernel: ${pairs(fixedRateCpu, 'kernel')}.`,
  );
}
console.log(
  `\nThe access log: SQLite limit=10 at LOG_LEVEL=warn and at info (the default: a line per request, read from a pipe and dropped), loaded at once, ` +
    `${FIXED_RATE} requests/s each, ${ROUNDS} rounds: CPU per request (µs), warn / info by round: ${pairs(accessLogCpu, 'all')}; of it in the kernel: ${pairs(accessLogCpu, 'kernel')}.`,
);
