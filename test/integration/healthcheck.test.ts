import { expect } from 'chai';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApi, type RunningApi } from '../../api/server.js';
import { loadConfig } from '../../config.js';
import { startCollector, type Collector } from '../../collector/scheduler.js';
import { checkHealth } from '../../healthcheck.js';
import { SqliteStore } from '../../storage/sqlite.js';
import { testListen } from '../helpers/api.js';
import { capturingLogger } from '../helpers/logger.js';
import { freePort } from '../helpers/ports.js';
import { startSilentServer } from '../helpers/silent-server.js';
import { writeNotADatabase } from '../helpers/sqlite-files.js';
import { waitFor } from '../helpers/wait.js';

describe('API healthcheck (memory-tracker healthcheck api, against a real API)', () => {
  let dir: string;
  let store: SqliteStore;
  const apis: RunningApi[] = [];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mt-healthcheck-'));
    store = SqliteStore.open({ kind: 'sqlite', path: join(dir, 'db.sqlite'), timeoutMs: 1_000 });
  });
  after(async () => {
    for (const api of apis) await api.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  const serve = async (bindAddress: string): Promise<number> => {
    const api = await startApi({ ...testListen(), bindAddress }, store, capturingLogger().logger);
    apis.push(api);
    return api.port;
  };
  const check = (env: Record<string, string>) => checkHealth('api', loadConfig(env));

  for (const bindAddress of ['0.0.0.0', '127.0.0.2']) {
    it(`is healthy when the API listens on BIND_ADDRESS=${bindAddress}`, async () => {
      const port = await serve(bindAddress);
      expect(await check({ BIND_ADDRESS: bindAddress, PORT: String(port) })).to.deep.equal({ healthy: true, reason: 'GET /healthz answered 200' });
    });
  }

  it('is unhealthy, saying why, when nothing listens', async () => {
    const { healthy, reason } = await check({ BIND_ADDRESS: '127.0.0.1', PORT: String(await freePort()) });
    expect(healthy).to.equal(false);
    expect(reason).to.match(/^GET \/healthz failed: .*ECONNREFUSED/);
  });

  it('is unhealthy when /healthz does not answer within 2 s', async function () {
    this.timeout(10_000);
    const silent = await startSilentServer();
    try {
      expect(await check({ BIND_ADDRESS: '127.0.0.1', PORT: String(silent.port) })).to.deep.equal({ healthy: false, reason: 'GET /healthz failed: no answer within 2 s' });
    } finally {
      await silent.close();
    }
  });
});

describe('Collector healthcheck (memory-tracker healthcheck collector, against a real collector)', function () {
  this.timeout(30_000);
  let dir: string;
  let collector: Collector | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mt-healthcheck-collector-'));
  });
  afterEach(async () => {
    await collector?.stop();
    collector = undefined;
    await rm(dir, { recursive: true, force: true });
  });
  /** A collector at one run a second over `env`'s settings, and the healthcheck of the same settings. */
  const collect = async (env: Record<string, string>) => {
    const config = loadConfig({ DATA_DIR: dir, COLLECT_INTERVAL: '1s', LOG_LEVEL: 'silent', ...env });
    collector = await startCollector(config.collector, config.store, capturingLogger().logger);
    return { stats: collector.stats, check: () => checkHealth('collector', config) };
  };

  it('is unhealthy while runs cannot read meminfo, and healthy again from the first run that can', async () => {
    const procRoot = join(dir, 'proc');
    await mkdir(procRoot);
    const { stats, check } = await collect({ PROC_ROOT: procRoot });
    await waitFor('two runs failed', async () => (stats.failures >= 2 ? true : undefined));
    expect(await check()).to.deep.equal({ healthy: false, reason: `no heartbeat file at ${join(dir, 'collector.heartbeat')} yet: no run has taken its point` });
    // Read and written: /proc's files tell a size of 0, and a copy of one is empty.
    await writeFile(join(procRoot, 'meminfo'), await readFile('/proc/meminfo'));
    const healthy = await waitFor('a run that took its point', async () => {
      const health = await check();
      return health.healthy ? health : undefined;
    });
    expect(healthy.reason).to.match(/^last point taken \d+ s ago$/);
  });

  it('stays healthy while the store refuses points and the spool takes them', async () => {
    const notADatabase = join(dir, 'not-a-database.sqlite');
    await writeNotADatabase(notADatabase);
    const { stats, check } = await collect({ SQLITE_PATH: notADatabase });
    await waitFor('two points spooled', async () => (stats.pointsSpooled >= 2 ? true : undefined));
    expect((await check()).healthy).to.equal(true);
  });
});
