import { expect } from 'chai';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { caseDirs } from '../helpers/case-dirs.js';
import { pointsServed, startCli } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';

/**
 * The README's first command, `npm start`: the API and the collector in one process
 * (`memory-tracker all`), every setting at its default but the port (8000 may be
 * taken here) and the interval (a second, so as not to wait for the minute).
 */
describe('npm start: the API and the collector in one process, on their defaults (SQLite under ./data)', function () {
  this.timeout(30_000);
  const fresh = caseDirs('mt-quick-start-');

  it("collects this machine's points into ./data, serves them with the collector's metrics, and stops on SIGTERM with exit code 0", async () => {
    const cwd = fresh();
    await mkdir(cwd);
    const port = await freePort();
    const cli = startCli(['all'], { PORT: String(port), BIND_ADDRESS: '127.0.0.1', COLLECT_INTERVAL: '1s' }, { cwd });
    const { child, stderr } = cli;
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    const api = `http://127.0.0.1:${port}`;
    try {
      const points = await pointsServed(cli, port, 2);
      expect(points[1]!.timestamp - points[0]!.timestamp).to.equal(1);
      for (const point of points) expect(point.used).to.equal(point.total - point.free);
      const hosts = (await (await fetch(`${api}/hosts/`)).json()) as Array<{ host: string }>;
      expect(hosts.map(({ host }) => host)).to.deep.equal([hostname()]);
      expect(existsSync(join(cwd, 'data', 'memory-tracker.sqlite')), 'the SQLite file under ./data').to.equal(true);
      const metrics = await (await fetch(`${api}/metrics`)).text();
      expect(metrics).to.match(/^memory_tracker_collector_runs_total [1-9]\d*$/m);
      expect(metrics).to.match(/^memory_tracker_points_written_total [1-9]\d*$/m);
      expect(metrics).to.match(/^memory_tracker_spool_depth 0$/m);
      expect((await fetch(`${api}/readyz`)).status).to.equal(200);
      child.kill('SIGTERM');
      expect(await exited).to.deep.equal([0, null]);
      // Every point it took was stored: nothing waits in the spool.
      expect(await readdir(join(cwd, 'data', 'spool'))).to.deep.equal([]);
      expect(stderr(), 'nothing on stderr').to.equal('');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
