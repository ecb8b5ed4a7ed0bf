import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childPids, isRunning } from '../../bench/proc-stats.js';
import { influxdBinary } from '../helpers/influxd.js';
import { requireTool } from '../helpers/tools.js';
import { waitFor } from '../helpers/wait.js';

describe('benchmarks interrupted (a real bench:collector, ended by a signal to its own pid)', () => {
  let tmp: string;
  let children: number[] = [];
  beforeEach(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'mt-bench-leftovers-'));
  });
  afterEach(async () => {
    // Whatever a failed test left running.
    for (const pid of children.filter(isRunning)) process.kill(pid, 'SIGKILL');
    await rm(tmp, { recursive: true, force: true });
  });

  // On InfluxDB it also starts an influxd, with a directory of its own.
  for (const { signal, store, processes, directories } of [
    { signal: 'SIGTERM', store: 'sqlite', processes: 3, directories: 1 },
    { signal: 'SIGINT', store: 'sqlite', processes: 3, directories: 1 },
    { signal: 'SIGTERM', store: 'influxdb', processes: 4, directories: 2 },
  ] as const) {
    it(`on ${signal}, on ${store}, ends the ${processes} processes it started, removes its directories and exits 128 + the signal's number`, async function () {
      if (store === 'influxdb') requireTool(this, influxdBinary(), ['version'], 'REQUIRE_INFLUXDB', 'Debian: apt-get install influxdb');
      // `kill PID` and `timeout` signal the benchmark alone, not its process group.
      const bench = spawn(process.execPath, [join(import.meta.dirname, '..', '..', 'bench', 'collector-footprint.js'), '60', '1s', store], {
        env: { PATH: process.env.PATH, TMPDIR: tmp },
        stdio: 'ignore',
      });
      // The collector, a bare node and a node that loads its libraries (and influxd).
      children = await waitFor(`the benchmark to start its ${processes} processes`, async () => {
        const pids = childPids(bench.pid!);
        return pids.length === processes ? pids : undefined;
      });
      expect(await readdir(tmp)).to.have.lengthOf(directories);

      const exited = once(bench, 'exit');
      bench.kill(signal);
      const [code] = (await exited) as [number | null, NodeJS.Signals | null];

      expect(children.filter(isRunning), 'processes still running').to.deep.equal([]);
      expect(await readdir(tmp), 'left in its temporary directory').to.deep.equal([]);
      expect(code).to.equal(signal === 'SIGTERM' ? 143 : 130);
    });
  }
});

describe('bench:collector given bad arguments (a real run of the script)', () => {
  let tmp: string;
  beforeEach(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'mt-bench-arguments-'));
  });
  afterEach(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  for (const [args, problem, env] of [
    [['5', '1500ms'], 'COLLECT_INTERVAL: timestamps are whole seconds', {}],
    [['5', 'soon'], 'COLLECT_INTERVAL: expected a duration', {}],
    [['0'], 'seconds: a whole number above 0', {}],
    [['5', '1s', 'mongodb'], 'STORE: expected one of sqlite, influxdb, got "mongodb"', {}],
    [['5', '1s', 'influxdb'], 'store influxdb: no influxd to start here', { INFLUXD_BIN: '/nonexistent/influxd' }],
  ] as const) {
    it(`refuses ${args.join(' ')}${'INFLUXD_BIN' in env ? ' without an influxd' : ''} with exit code 2 and says why, before starting anything`, async () => {
      const bench = spawn(process.execPath, [join(import.meta.dirname, '..', '..', 'bench', 'collector-footprint.js'), ...args], {
        env: { PATH: process.env.PATH, TMPDIR: tmp, ...env },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      bench.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const [code] = (await once(bench, 'exit')) as [number | null];

      expect(code).to.equal(2);
      expect(stderr).to.include(problem).and.to.include('usage: npm run bench:collector');
      expect(await readdir(tmp), 'created in its temporary directory').to.deep.equal([]);
    });
  }
});
