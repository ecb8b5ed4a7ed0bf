/**
 * Sustained load: `GET /memory-logs/?limit=10` at a fixed rate for a while, from
 * autocannon in a second process on loopback, against the API on the embedded
 * store holding a year of minute points. Reports throughput, p50/p99 latency,
 * errors, and the API's resident memory before, after and at its peak.
 *
 *   npm run bench:load -- [seconds=60] [requests-per-second=1000]
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { AUTOCANNON, runtimeLabel, seedYear, startApiProcess } from './fixtures.js';
import { residentMiB } from './proc-stats.js';
import { leaveNothingBehind, temporaryDirectory } from './leftovers.js';

leaveNothingBehind();

const seconds = Number(process.argv[2] ?? 60);
const rate = Number(process.argv[3] ?? 1_000);

const dir = await temporaryDirectory('mt-bench-soak-');
const path = join(dir, 'year.sqlite');
await seedYear({ kind: 'sqlite', path, timeoutMs: 5_000 });
const api = await startApiProcess({ STORE: 'sqlite', SQLITE_PATH: path });
const url = `http://127.0.0.1:${api.port}/memory-logs/?limit=10`;

// Warm up, then let the heap settle before the "before" reading.
await fetch(url);
await new Promise((resolve) => setTimeout(resolve, 2_000));
const before = await residentMiB(api.pid);
const child = spawn(process.execPath, [AUTOCANNON, '-c', '10', '-R', String(rate), '-d', String(seconds), '-j', url], { stdio: ['ignore', 'pipe', 'ignore'] });
let out = '';
child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
let peak = before;
const sampler = setInterval(() => {
  residentMiB(api.pid).then((mib) => (peak = Math.max(peak, mib)), () => undefined);
}, 250);
// Resident memory every tenth of the run: flat after warm-up means no leak.
const timeline: number[] = [];
const tenths = setInterval(() => {
  residentMiB(api.pid).then((mib) => timeline.push(mib), () => undefined);
}, (seconds * 1_000) / 10);
await once(child, 'exit');
clearInterval(sampler);
clearInterval(tenths);
await new Promise((resolve) => setTimeout(resolve, 2_000));
const after = await residentMiB(api.pid);
await api.stop();

const report = JSON.parse(out) as {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; max: number };
  errors: number;
  timeouts: number;
  non2xx: number;
};
console.log(`Sustained load, ${seconds} s at ${rate} requests/s (autocannon -c 10 -R ${rate}), ${new Date().toISOString().slice(0, 10)}, ${runtimeLabel()}\n`);
console.log('| requests | requests/s | p50 (ms) | p99 (ms) | max (ms) | errors | RSS before (MiB) | RSS peak | RSS after |');
console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
console.log(
  `| ${report.requests.total} | ${report.requests.average.toFixed(0)} | ${report.latency.p50} | ${report.latency.p99} | ${report.latency.max} | ${report.errors + report.timeouts + report.non2xx} | ${before.toFixed(1)} | ${peak.toFixed(1)} | ${after.toFixed(1)} |`,
);
console.log(`\nResident memory every ${seconds / 10} s (MiB): ${timeline.map((mib) => mib.toFixed(1)).join(', ')}`);
