import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childPids, isRunning } from '../../bench/proc-stats.js';
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

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`on ${signal}, ends the processes it started, removes its directory and exits 128 + the signal's number`, async () => {
      // `kill PID` and `timeout` signal the benchmark alone, not its process group.
      const bench = spawn(process.execPath, [join(import.meta.dirname, '..', '..', 'bench', 'collector-footprint.js'), '60'], {
        env: { PATH: process.env.PATH, TMPDIR: tmp },
        stdio: 'ignore',
      });
      // It starts three: the collector, a bare node and a node that loads its libraries.
      children = await waitFor('the benchmark to start its three processes', async () => {
        const pids = childPids(bench.pid!);
        return pids.length === 3 ? pids : undefined;
      });
      expect(await readdir(tmp)).to.have.lengthOf(1);

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

  for (const [args, problem] of [
    [['5', '1500ms'], 'COLLECT_INTERVAL: timestamps are whole seconds'],
    [['5', 'soon'], 'COLLECT_INTERVAL: expected a duration'],
    [['0'], 'seconds: a whole number above 0'],
  ] as const) {
    it(`refuses ${args.join(' ')} with exit code 2 and says why, before starting anything`, async () => {
      const bench = spawn(process.execPath, [join(import.meta.dirname, '..', '..', 'bench', 'collector-footprint.js'), ...args], {
        env: { PATH: process.env.PATH, TMPDIR: tmp },
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
