import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import type { CollectorConfig, InfluxStoreConfig, InfluxV2StoreConfig } from '../../config.js';
import type { JobInput, JobMessage } from '../../collector/job-messages.js';
import { RUNS_PER_MAIN_COLLECTION, startCollector, type Collector } from '../../collector/scheduler.js';
import { Spool } from '../../collector/spool.js';
import { InfluxStore } from '../../storage/influx.js';
import { SqliteStore } from '../../storage/sqlite.js';
import type { MemoryPoint } from '../../storage/types.js';
import { sharedInflux, privateInflux } from '../helpers/influx-fixture.js';
import type { InfluxServer } from '../helpers/influxd.js';
import { startCli } from '../helpers/cli.js';
import { fakedClock, type FakedClock } from '../helpers/faked-clock.js';
import { capturingLogger } from '../helpers/logger.js';
import { freePort } from '../helpers/ports.js';
import { startSilentServer } from '../helpers/silent-server.js';
import { writeNotADatabase } from '../helpers/sqlite-files.js';
import { waitFor } from '../helpers/wait.js';
import { listRecords } from '../../storage/index.js';
import { spooledPoints } from '../helpers/spooled.js';

const HOST = 'collector-test';

function collectorConfig(dir: string): CollectorConfig {
  return {
    intervalMs: 1_000,
    timeoutMs: 800,
    procRoot: '/proc',
    host: HOST,
    spoolDir: join(dir, 'spool'),
    spoolMaxPoints: 10_000,
    heartbeatPath: join(dir, 'collector.heartbeat'),
  };
}

/** Every timestamp the store holds for HOST, oldest first (through the store, as the API reads). */
async function storedTimestamps(store: InfluxStore): Promise<number[]> {
  return (await listRecords(store, { host: HOST, limit: 99_999, skip: 0 })).map((record) => record.timestamp);
}

function expectContiguousSeconds(timestamps: readonly number[]): void {
  expect(timestamps.length).to.be.greaterThan(0);
  const first = timestamps[0]!;
  expect(timestamps).to.deep.equal(timestamps.map((_, i) => first + i), 'one point per tick, none missing, none twice, in order');
}

function readKiB(text: string, name: string): number {
  return Number(new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(text)?.[1]);
}

describe('Collector (Bree worker threads, a real influxd, COLLECT_INTERVAL=1s)', function () {
  this.timeout(60_000);
  let dir: string;
  const running: Collector[] = [];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mt-collector-'));
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((collector) => collector.stop()));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('records a point per tick at aligned timestamps, with values matching /proc/meminfo within 1%', async function () {
    const influx = await sharedInflux(this);
    const storeConfig: InfluxStoreConfig = { ...influx.storeConfig(), collectIntervalMs: 1_000 };
    const store = new InfluxStore(storeConfig);
    const startedMs = Date.now();
    running.push(await startCollector(collectorConfig(join(dir, 'aligned')), storeConfig, capturingLogger().logger));
    const timestamps = await waitFor('three points', async () => {
      const stored = await storedTimestamps(store);
      return stored.length >= 3 ? stored : undefined;
    });
    const meminfo = await readFile('/proc/meminfo', 'utf8');
    expectContiguousSeconds(timestamps);
    expect(timestamps[0]).to.be.within(Math.floor(startedMs / 1_000), Math.floor(startedMs / 1_000) + 2);
    const [newest] = await listRecords(store, { host: HOST, limit: 1, skip: 0 });
    const totalMiB = readKiB(meminfo, 'MemTotal') / 1024;
    const freeMiB = readKiB(meminfo, 'MemAvailable') / 1024;
    expect(newest!.total).to.be.closeTo(totalMiB, totalMiB * 0.01);
    expect(newest!.free).to.be.closeTo(freeMiB, totalMiB * 0.01);
    expect(newest!.used).to.equal(newest!.total - newest!.free);
  });

  it('loses nothing across an outage: every tick is stored once, in order, with one log line each way', async function () {
    const influx: InfluxServer = await privateInflux(this);
    try {
      const storeConfig: InfluxStoreConfig = { ...influx.storeConfig(), collectIntervalMs: 1_000 };
      const store = new InfluxStore(storeConfig);
      const { logger, lines } = capturingLogger();
      const collector = await startCollector(collectorConfig(join(dir, 'outage')), storeConfig, logger);
      running.push(collector);
      await waitFor('two points before the outage', async () => ((await storedTimestamps(store)).length >= 2 ? true : undefined));
      await influx.stop();
      await waitFor('four ticks spooled', async () => {
        return new Spool(join(dir, 'outage', 'spool'), 10_000).size() >= 4 ? true : undefined;
      });
      await influx.resume();
      await waitFor('the spool replayed', async () => (lines().some((line) => /^replayed \d+ points$/.test(String(line.msg))) ? true : undefined));
      await collector.stop();
      const timestamps = await storedTimestamps(store);
      expect(timestamps.length).to.be.at.least(6);
      expectContiguousSeconds(timestamps);
      expect(spooledPoints(new Spool(join(dir, 'outage', 'spool'), 10_000))).to.deep.equal([]);
      const messages = lines().map((line) => String(line.msg));
      expect(messages.filter((msg) => msg === 'store unreachable, spooling')).to.have.length(1);
    } finally {
      await influx.destroy();
    }
  });

  /**
   * A collector on `influx`, which is stopped first, whose spool directory lies under
   * a plain file (`blocking`): until that file is removed, the spool can be neither
   * made, nor read, nor written.
   */
  async function startUnspoolable(influx: InfluxServer, name: string): Promise<{ collector: Collector; store: InfluxStore; lines: ReturnType<typeof capturingLogger>['lines']; blocking: string }> {
    const storeConfig: InfluxStoreConfig = { ...influx.storeConfig(), collectIntervalMs: 1_000 };
    const base = join(dir, name);
    await mkdir(base, { recursive: true });
    const blocking = join(base, 'spool-parent');
    await writeFile(blocking, '');
    const { logger, lines } = capturingLogger();
    await influx.stop();
    const collector = await startCollector({ ...collectorConfig(base), spoolDir: join(blocking, 'spool') }, storeConfig, logger);
    running.push(collector);
    return { collector, store: new InfluxStore(storeConfig), lines, blocking };
  }

  it('holds in memory the points neither the store nor the spool can take, spools them once it can, and stores them all, in order, once the store is back', async function () {
    const influx: InfluxServer = await privateInflux(this);
    try {
      const { collector, store, lines, blocking } = await startUnspoolable(influx, 'unspoolable');
      await waitFor('three points held', async () => (collector.stats.pointsHeld >= 3 ? true : undefined));
      const heldUntilSeconds = Math.floor(Date.now() / 1_000);
      // The spool can be made now: the held points go there with the next run's.
      await rm(blocking);
      await waitFor('the held points spooled', async () => (collector.stats.pointsHeld === 0 && collector.stats.spoolDepth >= 4 ? true : undefined));
      expect(collector.stats.pointsSpooled, 'every point that went to the spool, the held ones included').to.equal(collector.stats.spoolDepth);
      await influx.resume();
      await waitFor('the spool replayed', async () => (lines().some((line) => /^replayed \d+ points$/.test(String(line.msg))) ? true : undefined));
      await collector.stop();
      const timestamps = await storedTimestamps(store);
      expect(timestamps.filter((timestamp) => timestamp <= heldUntilSeconds), 'the points taken while nothing could save them').to.have.length.of.at.least(3);
      expectContiguousSeconds(timestamps);
      const messages = lines().map((line) => String(line.msg));
      expect(messages.filter((msg) => /^collector run failed: neither the store \(InfluxDB at \S+ unreachable\) nor the spool \(ENOTDIR/.test(msg))).to.have.length(1);
      expect(messages).not.to.include('stopped with points neither the store nor the spool took: they are lost');
    } finally {
      await influx.destroy();
    }
  });

  it('delivers held points straight to a store that is back while the spool stays unusable, warning once that the spool cannot be used', async function () {
    const influx: InfluxServer = await privateInflux(this);
    try {
      const { collector, store, lines } = await startUnspoolable(influx, 'unspoolable-for-good');
      await waitFor('two points held', async () => (collector.stats.pointsHeld >= 2 ? true : undefined));
      await influx.resume();
      await waitFor('the held points delivered', async () => (lines().some((line) => line.msg === 'points held in memory delivered') ? true : undefined));
      await waitFor('two more runs', async () => ((await storedTimestamps(store)).length >= 5 ? true : undefined));
      await collector.stop();
      expectContiguousSeconds(await storedTimestamps(store));
      const messages = lines().map((line) => String(line.msg));
      expect(messages.filter((msg) => msg.startsWith('spool cannot be read or written'))).to.have.length(1);
    } finally {
      await influx.destroy();
    }
  });

  it('holds the points of runs kept out of the spool by another collector\'s lock, and delivers them once it is let go', async function () {
    const influx = await sharedInflux(this);
    const storeConfig: InfluxStoreConfig = { ...influx.storeConfig(), collectIntervalMs: 1_000 };
    const store = new InfluxStore(storeConfig);
    const base = join(dir, 'locked');
    const config = collectorConfig(base);
    await mkdir(config.spoolDir, { recursive: true });
    // Another collector on the same SPOOL_DIR, its run going on: its lock stays fresh.
    const lock = join(config.spoolDir, 'points.lock');
    await writeFile(lock, 'host other, pid 1\n');
    const fresh = setInterval(() => void utimes(lock, new Date(), new Date()).catch(() => undefined), 100);
    try {
      const { logger, lines } = capturingLogger();
      const collector = await startCollector(config, storeConfig, logger);
      running.push(collector);
      await waitFor('two points held', async () => (collector.stats.pointsHeld >= 2 ? true : undefined));
      const releasedSeconds = Math.floor(Date.now() / 1_000);
      clearInterval(fresh);
      await rm(lock);
      await waitFor('the held points delivered', async () => (lines().some((line) => line.msg === 'points held in memory delivered') ? true : undefined));
      await collector.stop();
      const timestamps = await storedTimestamps(store);
      expect(timestamps.filter((timestamp) => timestamp <= releasedSeconds), 'the points of the runs the lock kept out').to.have.length.of.at.least(2);
      expectContiguousSeconds(timestamps);
      expect(lines().map((line) => String(line.msg)).filter((msg) => msg.startsWith('collector run failed: the spool in'))).to.have.length(1);
    } finally {
      clearInterval(fresh);
    }
  });

  it('says at error level when InfluxDB rejects the points themselves (a field type conflict), and delivers them once that ends', async function () {
    const influx: InfluxServer = await privateInflux(this);
    try {
      const storeConfig: InfluxStoreConfig = { ...influx.storeConfig(), collectIntervalMs: 1_000 };
      // Another program's `memory` of floats, in the shard the collector writes to.
      await influx.query(`CREATE DATABASE "${storeConfig.database}"`);
      const floats = `memory,host=other total=1.5,free=1.0,used=0.5 ${Math.floor(Date.now() / 1_000) - 1}`;
      const written = await fetch(`${influx.url}/write?db=${storeConfig.database}&precision=s`, { method: 'POST', body: floats });
      expect(written.status, await written.text()).to.equal(204);
      const { logger, lines } = capturingLogger();
      const config = collectorConfig(join(dir, 'rejected'));
      const first = await startCollector(config, storeConfig, logger);
      running.push(first);
      const spool = new Spool(config.spoolDir, 10_000);
      await waitFor('two ticks spooled', async () => (spooledPoints(spool).length >= 2 ? true : undefined));
      // Stopped before the DROP, so that no write is in flight during it: InfluxDB
      // before 1.7 can lose a write that lands while a measurement is being dropped
      // (influxdata/influxdb#10516), and a run puts its point in the spool before it
      // tries the store, so the second point seen may be a run's still in flight. A
      // run cut short by stop() keeps its point spooled.
      await first.stop();
      const spooled = spooledPoints(spool).map((point) => point.timestamp);
      expect(spooled.length).to.be.at.least(2);
      const rejected = lines().filter((line) => String(line.msg).startsWith('store '));
      expect(rejected.map((line) => [line.msg, line.level])).to.deep.equal([['store rejected the points, spooling', 50]]);
      expect(String(rejected[0]!.reason)).to.match(/^InfluxDB answered 400: partial write: field type conflict/);

      await influx.query('DROP MEASUREMENT "memory"', storeConfig.database);
      running.push(await startCollector(config, storeConfig, logger));
      await waitFor('the spool replayed', async () => (lines().some((line) => /^replayed \d+ points$/.test(String(line.msg))) ? true : undefined));
      const stored = await storedTimestamps(new InfluxStore(storeConfig));
      expect(stored.slice(0, spooled.length), 'every rejected point, oldest first').to.deep.equal(spooled);
      expectContiguousSeconds(stored);
    } finally {
      await influx.destroy();
    }
  });

  it('replays a spool whose oldest points InfluxDB\'s retention policy drops: the rest is stored, the spool empties, one warning says how many', async function () {
    const influx: InfluxServer = await privateInflux(this);
    try {
      const storeConfig: InfluxStoreConfig = { ...influx.storeConfig(), collectIntervalMs: 1_000 };
      await influx.createHourDatabase(storeConfig.database);
      const config = collectorConfig(join(dir, 'retention'));
      const spool = new Spool(config.spoolDir, config.spoolMaxPoints);
      // More than a replay batch (1,000) of points older than the hour the database
      // keeps, then some it keeps: InfluxDB answers such a batch 400 "partial write",
      // having stored the points it keeps.
      const nowSeconds = Math.floor(Date.now() / 1_000);
      const expired = Array.from({ length: 1_500 }, (_, i) => ({ host: HOST, timestamp: nowSeconds - 3 * 3_600 + i, total: 100, free: 40, used: 60 }));
      const kept = Array.from({ length: 3 }, (_, i) => ({ host: HOST, timestamp: nowSeconds - 600 + i, total: 100, free: 30, used: 70 }));
      spool.append([...expired, ...kept]);
      const { logger, lines } = capturingLogger();
      const collector = await startCollector(config, storeConfig, logger);
      running.push(collector);
      await waitFor('the spool replayed', async () => (lines().some((line) => /^replayed \d+ points$/.test(String(line.msg))) ? true : undefined));
      await waitFor('a tick stored after the replay', async () => ((await storedTimestamps(new InfluxStore(storeConfig))).length >= kept.length + 2 ? true : undefined));
      await collector.stop();

      const stored = await storedTimestamps(new InfluxStore(storeConfig));
      expect(stored.slice(0, kept.length), 'the spooled points the database keeps, oldest first').to.deep.equal(kept.map((point) => point.timestamp));
      expectContiguousSeconds(stored.slice(kept.length));
      expect(spooledPoints(spool)).to.deep.equal([]);
      const warnings = lines().filter((line) => line.msg === 'store dropped points older than its retention policy');
      // One per run that met them: a run replays for at most half its timeout.
      expect([...new Set(warnings.map((line) => line.level))], 'warnings, and only warnings').to.deep.equal([40]);
      expect(warnings.reduce((sum, line) => sum + Number(line.dropped), 0)).to.equal(expired.length);
      expect(lines().filter((line) => /^store (unreachable|rejected|refused)/.test(String(line.msg))), 'no store failure').to.deep.equal([]);
      expect(collector.stats.pointsBeyondRetention).to.equal(expired.length);
    } finally {
      await influx.destroy();
    }
  });

  it('on SQLite, stores a point per tick, in threads that have gc to free the driver\'s objects with', async function () {
    const path = join(dir, 'sqlite', 'memory.sqlite');
    running.push(await startCollector(collectorConfig(join(dir, 'sqlite')), { kind: 'sqlite', path, timeoutMs: 5_000 }, capturingLogger().logger));
    // The runs call gc (job.ts), which threads have only once the scheduler exposed it.
    const probe = new Worker("require('node:worker_threads').parentPort.postMessage(typeof gc)", { eval: true });
    expect(await once(probe, 'message')).to.deep.equal(['function']);
    const store = SqliteStore.open({ kind: 'sqlite', path, timeoutMs: 5_000 });
    try {
      const stored = await waitFor('three points in SQLite', async () => {
        const timestamps = (await listRecords(store, { host: HOST, limit: 10, skip: 0 })).map((record) => record.timestamp);
        return timestamps.length >= 3 ? timestamps : undefined;
      });
      expectContiguousSeconds(stored);
    } finally {
      await store.close();
    }
  });

  it('on SQLite, spools the points of runs that cannot open the file, and stores them all once it can', async function () {
    const path = join(dir, 'sqlite-unopenable', 'memory.sqlite');
    await writeNotADatabase(path);
    const { logger, lines } = capturingLogger();
    running.push(await startCollector(collectorConfig(join(dir, 'sqlite-unopenable')), { kind: 'sqlite', path, timeoutMs: 5_000 }, logger));
    const spool = new Spool(join(dir, 'sqlite-unopenable', 'spool'), 10_000);
    await waitFor('three ticks spooled', async () => (spooledPoints(spool).length >= 3 ? true : undefined));
    expect(lines().map((line) => String(line.msg))).to.include('store unreachable, spooling');
    await rm(path);
    const store = SqliteStore.open({ kind: 'sqlite', path, timeoutMs: 5_000 });
    try {
      const stored = await waitFor('the spooled points and two more in SQLite', async () => {
        const timestamps = (await listRecords(store, { host: HOST, limit: 100, skip: 0 })).map((record) => record.timestamp);
        return timestamps.length >= 5 && spooledPoints(spool).length === 0 ? timestamps : undefined;
      });
      expectContiguousSeconds(stored);
    } finally {
      await store.close();
    }
  });

  describe('a run handed a share of the held points, with more held after them', () => {
    const heldPoints = [1, 2, 3].map((second): MemoryPoint => ({ host: HOST, timestamp: 1_700_000_000 + second, total: 2_048, free: 1_024, used: 1_024 }));

    /** One run of the SQLite job in a worker thread, as Bree starts it: its message. */
    async function runSqliteJob(base: string, path: string, tickMs: number): Promise<JobMessage> {
      const input: JobInput<'sqlite'> = { collector: collectorConfig(base), store: { kind: 'sqlite', path, timeoutMs: 5_000 }, tickMs, held: heldPoints, moreHeld: true };
      const worker = new Worker(new URL('../../job/sqlite.cjs', import.meta.url), { workerData: input });
      const messages: unknown[] = [];
      worker.on('message', (message: unknown) => {
        if (message === 'done') void worker.terminate();
        else messages.push(message);
      });
      await once(worker, 'exit');
      expect(messages).to.have.length(1);
      return messages[0] as JobMessage;
    }

    it('delivers that share only, and hands its own point back to be held after them', async () => {
      const base = join(dir, 'held-share');
      const path = join(base, 'memory.sqlite');
      await mkdir(base, { recursive: true });
      const tickMs = Date.now();
      const message = await runSqliteJob(base, path, tickMs);
      expect(message.type).to.equal('report');
      expect(message.sample?.timestamp, 'its own point, handed back').to.equal(Math.floor(tickMs / 1_000));
      const store = SqliteStore.open({ kind: 'sqlite', path, timeoutMs: 5_000 });
      try {
        const stored = (await listRecords(store, { host: HOST, limit: 10, skip: 0 })).map((record) => record.timestamp);
        expect(stored).to.deep.equal(heldPoints.map((point) => point.timestamp));
      } finally {
        await store.close();
      }
      expect(spooledPoints(new Spool(join(base, 'spool'), 10_000))).to.deep.equal([]);
    });

    it('failing, hands back the share it could not save apart from its own point', async () => {
      const base = join(dir, 'held-share-failing');
      const path = join(base, 'memory.sqlite');
      await writeNotADatabase(path);
      // The spool's directory cannot be made: a file stands where its parent would be.
      await writeFile(join(base, 'spool'), '');
      const message = await runSqliteJob(join(base, 'spool'), path, Date.now());
      expect(message.type).to.equal('failed');
      expect(message.type === 'failed' && message.unsaved).to.deep.equal(heldPoints);
      expect(message.sample?.host).to.equal(HOST);
    });
  });

  it('on InfluxDB 2.x, runs the client bundled into the job: with no server there, spools every tick, with one line and no crash', async () => {
    // The only InfluxDB here is 1.6, which has no 2.x API: a port with nothing on it
    // still runs the bundled client's write and its error path in every run.
    const storeConfig: InfluxV2StoreConfig = {
      kind: 'influxdb2',
      url: `http://127.0.0.1:${await freePort()}`,
      org: 'memory-tracker',
      bucket: 'memory',
      token: 'unused',
      timeoutMs: 500,
      collectIntervalMs: 1_000,
      readCacheMs: 0,
    };
    const { logger, lines } = capturingLogger();
    const collector = await startCollector(collectorConfig(join(dir, 'influx2-down')), storeConfig, logger);
    running.push(collector);
    const spool = new Spool(join(dir, 'influx2-down', 'spool'), 10_000);
    const spooled = await waitFor('three ticks spooled', async () => {
      const points = spooledPoints(spool);
      return points.length >= 3 ? points : undefined;
    });
    expectContiguousSeconds(spooled.map((point) => point.timestamp));
    expect(spooled.every((point) => point.host === HOST && point.used === point.total - point.free)).to.equal(true);
    expect(collector.stats.failures, 'runs that crashed or failed').to.equal(0);
    const unreachable = lines().filter((line) => String(line.msg).startsWith('store '));
    expect(unreachable.map((line) => line.msg)).to.deep.equal(['store unreachable, spooling']);
    expect(String(unreachable[0]!.reason)).to.include('ECONNREFUSED');
  });

  it('with the spool full and the store down, drops the oldest point at every run and warns once', async () => {
    const storeConfig: InfluxStoreConfig = { kind: 'influxdb', url: `http://127.0.0.1:${await freePort()}`, database: 'x', username: undefined, password: undefined, token: undefined, timeoutMs: 500, collectIntervalMs: 1_000, readCacheMs: 0 };
    const { logger, lines } = capturingLogger();
    const collector = await startCollector({ ...collectorConfig(join(dir, 'spool-full')), spoolMaxPoints: 2 }, storeConfig, logger);
    running.push(collector);
    await waitFor('three runs past the bound', async () => (collector.stats.pointsDropped >= 3 ? true : undefined));
    const spooled = spooledPoints(new Spool(join(dir, 'spool-full', 'spool'), 2)).map((point) => point.timestamp);
    expect(spooled, 'the newest two').to.have.length(2);
    const full = lines().filter((line) => String(line.msg).startsWith('spool full'));
    expect(full.map((line) => [line.msg, line.dropped, line.spooled])).to.deep.equal([['spool full, dropping the oldest points', 1, 2]]);
  });

  it('with the spool unusable and the store down, holds the newest points within the bound and warns once that it drops the oldest', async () => {
    const storeConfig: InfluxStoreConfig = { kind: 'influxdb', url: `http://127.0.0.1:${await freePort()}`, database: 'x', username: undefined, password: undefined, token: undefined, timeoutMs: 500, collectIntervalMs: 1_000, readCacheMs: 0 };
    const base = join(dir, 'held-full');
    await mkdir(base, { recursive: true });
    await writeFile(join(base, 'spool-parent'), '');
    const { logger, lines } = capturingLogger();
    const collector = await startCollector({ ...collectorConfig(base), spoolDir: join(base, 'spool-parent', 'spool'), spoolMaxPoints: 2 }, storeConfig, logger);
    running.push(collector);
    await waitFor('three runs past the bound', async () => (collector.stats.pointsDropped >= 3 ? true : undefined));
    expect(collector.stats.pointsHeld).to.equal(2);
    const dropping = lines().filter((line) => String(line.msg).startsWith('points held in memory past'));
    expect(dropping.map((line) => [line.msg, line.dropped, line.held])).to.deep.equal([['points held in memory past SPOOL_MAX_POINTS, dropping the oldest', 1, 2]]);
  });

  it('stopped during a run, keeps its point spooled and says the stop cut it short, not that the store is unreachable', async () => {
    // A store that takes the connection and never answers: the run is still waiting when stopped.
    const silent = await startSilentServer();
    try {
      const storeConfig: InfluxStoreConfig = {
        kind: 'influxdb',
        url: silent.url,
        database: 'memory',
        username: undefined,
        password: undefined,
        token: undefined,
        timeoutMs: 10_000,
        collectIntervalMs: 2_000,
        readCacheMs: 0,
      };
      // The run's own deadline (three quarters of its timeout) well after the stop.
      const config = { ...collectorConfig(join(dir, 'stopped-mid-run')), intervalMs: 2_000, timeoutMs: 1_900 };
      const { logger, lines } = capturingLogger();
      const collector = await startCollector(config, storeConfig, logger);
      running.push(collector);
      await waitFor('a run waiting on the store', async () => (silent.connections > 0 ? true : undefined));
      await collector.stop();

      const points = spooledPoints(new Spool(config.spoolDir, 10_000));
      expect(points.map((point) => point.host)).to.deep.equal([HOST]);
      const messages = lines().map((line) => String(line.msg));
      expect(messages.filter((msg) => msg.startsWith('store '))).to.deep.equal([]);
      expect(messages).to.include('collector run cancelled by stop, its points stay spooled');
      expect(collector.stats.failures, 'runs that crashed or failed').to.equal(0);
    } finally {
      await silent.close();
    }
  });

  describe('as a process (npm run collector)', () => {
    const cli = (args: string[], env: Record<string, string>, nodeOptions: string[] = []): ChildProcess =>
      startCli(args, { STORE: 'influxdb', COLLECT_INTERVAL: '1s', NODE_NAME: HOST, LOG_LEVEL: 'info', DATA_DIR: join(dir, 'process'), ...env }, { nodeOptions }).child;
    const spawnCollector = (env: Record<string, string>, nodeOptions: string[] = []): ChildProcess => cli(['collect'], env, nodeOptions);
    const healthcheck = async (env: Record<string, string> = {}): Promise<number> => {
      const [code] = await once(cli(['healthcheck', 'collector'], env), 'exit');
      return code as number;
    };

    it('replays after SIGKILL what it had spooled, and stops on SIGTERM with exit code 0', async function () {
      const influx = await sharedInflux(this);
      const storeConfig = { ...influx.storeConfig(), collectIntervalMs: 1_000 };
      const spoolDir = join(dir, 'killed', 'spool');
      const spool = new Spool(spoolDir, 10_000);

      const doomed = spawnCollector({ INFLUX_URL: `http://127.0.0.1:${await freePort()}`, INFLUX_DATABASE: storeConfig.database, SPOOL_DIR: spoolDir });
      const spooled = await waitFor('three spooled points', async () => {
        const points = spooledPoints(spool);
        return points.length >= 3 ? points : undefined;
      });
      doomed.kill('SIGKILL');
      await once(doomed, 'exit');
      const survivors = spooledPoints(spool);
      expect(survivors.length).to.be.at.least(spooled.length);

      const revived = spawnCollector({ INFLUX_URL: influx.url, INFLUX_DATABASE: storeConfig.database, SPOOL_DIR: spoolDir });
      const store = new InfluxStore(storeConfig);
      await waitFor('the spooled points in the store', async () => {
        const stored = new Set(await storedTimestamps(store));
        return survivors.every((point) => stored.has(point.timestamp)) ? true : undefined;
      });
      expect(await healthcheck(), 'healthcheck after runs').to.equal(0);
      expect(await healthcheck({ DATA_DIR: join(dir, 'never-ran') }), 'healthcheck without runs').to.equal(1);
      const stoppingMs = Date.now();
      revived.kill('SIGTERM');
      const [code] = await once(revived, 'exit');
      expect(code).to.equal(0);
      expect(Date.now() - stoppingMs).to.be.below(5_000);
      // A run the SIGTERM cut short keeps its own point in the spool, by design;
      // every replayed point is gone from it.
      const left = spooledPoints(spool);
      expect(left.length, 'points left in the spool').to.be.at.most(1);
      expect(left.filter((point) => survivors.some((survivor) => survivor.timestamp === point.timestamp))).to.deep.equal([]);
    });

    /** A copy of this checkout's build (its tests left out) at `name`, with its node_modules linked. */
    const copyCheckout = async (name: string, leaveOut: readonly string[] = []): Promise<string> => {
      const checkout = join(dir, name);
      const left = [join('dist', 'test'), ...leaveOut].map((path) => join(process.cwd(), path));
      await mkdir(checkout);
      await cp(join(process.cwd(), 'package.json'), join(checkout, 'package.json'));
      await cp(join(process.cwd(), 'dist'), join(checkout, 'dist'), { recursive: true, filter: (source) => !left.includes(source) });
      await symlink(join(process.cwd(), 'node_modules'), join(checkout, 'node_modules'));
      return checkout;
    };

    // Bree reads a path with any of many characters, `(` and `&` among them, as code.
    it('collects from a checkout whose path holds characters Bree takes for code (`R&D (copy) #1`)', async () => {
      const checkout = await copyCheckout('R&D (copy) #1');
      const child = startCli(['collect'], { STORE: 'sqlite', COLLECT_INTERVAL: '1s', NODE_NAME: HOST, DATA_DIR: join(checkout, 'data') }, { checkout }).child;
      const store = SqliteStore.open({ kind: 'sqlite', path: join(checkout, 'data', 'memory-tracker.sqlite'), timeoutMs: 5_000 });
      try {
        await waitFor('two points in SQLite', async () => ((await listRecords(store, { host: HOST, limit: 10, skip: 0 })).length >= 2 ? true : undefined));
      } finally {
        child.kill('SIGTERM');
        await once(child, 'exit');
        await store.close();
      }
    });

    it("does not start without its run's bundle (`npm run build:job`), and says which file is missing", async () => {
      const checkout = await copyCheckout('unbundled', [join('dist', 'job')]);
      const run = startCli(['collect'], { STORE: 'sqlite', COLLECT_INTERVAL: '1s', DATA_DIR: join(checkout, 'data') }, { checkout });
      // A bound on a hang, not a speed: without the check it starts, and every run fails.
      const hung = setTimeout(() => run.child.kill('SIGKILL'), 20_000);
      const [code, signal] = (await once(run.child, 'close')) as [number | null, string | null];
      clearTimeout(hung);
      expect(signal, 'started without its bundle').to.equal(null);
      expect(code).to.equal(1);
      expect(run.stdout()).to.include(`cannot read the collector's run ${join(checkout, 'dist', 'job', 'sqlite.cjs')} (\`npm run build\` makes it)`);
    });

    it('counts a run that crashes once, though Bree reports it twice (its error, then its exit code), and logs the streak once', async () => {
      const checkout = await copyCheckout('crashing');
      await writeFile(join(checkout, 'dist', 'job', 'sqlite.cjs'), "throw new Error('boom at load');\n");
      const port = await freePort();
      const run = startCli(['collect'], { STORE: 'sqlite', COLLECT_INTERVAL: '1s', LOG_LEVEL: 'debug', DATA_DIR: join(checkout, 'data'), COLLECTOR_METRICS_PORT: String(port), BIND_ADDRESS: '127.0.0.1' }, { checkout });
      try {
        const failures = async (): Promise<number> => {
          const body = await fetch(`http://127.0.0.1:${port}/metrics`).then((response) => response.text(), () => '');
          return Number(/^memory_tracker_collector_run_failures_total (\d+)$/m.exec(body)?.[1] ?? 0);
        };
        await waitFor('three failed runs', async () => ((await failures()) >= 3 ? true : undefined));
        // Halfway between ticks (each at a whole second), when the last run has long
        // crashed and the next has not started; then its log lines are given time to arrive.
        await delay(1_500 - (Date.now() % 1_000));
        const counted = await failures();
        await delay(200);
        // Bree's "online" line for each run it started (at debug here).
        const started = run.stdout().split('\n').filter((line) => line.includes('"bree":true') && line.includes(' online')).length;
        expect(counted).to.be.within(started - 1, started);
        expect(run.stdout().split('\n').filter((line) => line.includes('collector run ended abnormally'))).to.have.length(1);
      } finally {
        run.child.kill('SIGTERM');
        await once(run.child, 'exit');
      }
    });

    it('serves its own metrics on COLLECTOR_METRICS_PORT when it runs alone', async () => {
      const port = await freePort();
      const child = spawnCollector({ STORE: 'sqlite', SQLITE_PATH: join(dir, 'metrics', 'db.sqlite'), DATA_DIR: join(dir, 'metrics'), COLLECTOR_METRICS_PORT: String(port), BIND_ADDRESS: '127.0.0.1' });
      try {
        const text = await waitFor('a written point in the metrics', async () => {
          const body = await fetch(`http://127.0.0.1:${port}/metrics`).then((response) => response.text(), () => '');
          return /^memory_tracker_points_written_total [1-9]/m.test(body) ? body : undefined;
        });
        expect(text).to.match(/^memory_tracker_spool_depth 0$/m);
        expect(text).to.match(/^memory_tracker_points_held 0$/m);
        expect(text).to.match(/^memory_tracker_points_beyond_retention_total 0$/m);
        expect(text).to.match(/^memory_tracker_last_successful_write_timestamp_seconds [1-9]\d{9}$/m);
        expect(text).to.include('memory_tracker_process_resident_memory_bytes');
      } finally {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
    });

    /**
     * Runs `collect` on its own SQLite file under `name`, with its output captured,
     * and ends it (and closes the file) whatever `body` does.
     */
    const withSqliteCollector = async (
      name: string,
      env: Record<string, string>,
      nodeOptions: string[],
      body: (running: { child: ChildProcess; store: SqliteStore; output: () => string }) => Promise<void>,
    ): Promise<void> => {
      const path = join(dir, name, 'db.sqlite');
      const child = spawnCollector({ STORE: 'sqlite', SQLITE_PATH: path, DATA_DIR: join(dir, name), ...env }, nodeOptions);
      let output = '';
      child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const store = SqliteStore.open({ kind: 'sqlite', path, timeoutMs: 5_000 });
      try {
        await body({ child, store, output: () => output });
      } finally {
        await store.close();
        if (child.exitCode === null) {
          child.kill('SIGTERM');
          await once(child, 'exit');
        }
      }
    };
    const exitedEarly = (child: ChildProcess, output: string): Error => new Error(`the collector exited with code ${child.exitCode}: ${output}`);

    it('runs under node options a worker thread refuses (--max-old-space-size, --expose-gc)', async () => {
      await withSqliteCollector('options', {}, ['--enable-source-maps', '--max-old-space-size=256', '--expose-gc'], async ({ child, store, output }) => {
        await waitFor('two points from runs under those options', async () => {
          if (child.exitCode !== null) throw exitedEarly(child, output());
          return (await listRecords(store, { host: HOST, limit: 10, skip: 0 })).length >= 2 ? true : undefined;
        });
        expect(child.exitCode, output()).to.equal(null);
      });
    });

    it(`alone in its process, collects its own heap every ${RUNS_PER_MAIN_COLLECTION} runs and keeps collecting points`, async () => {
      await withSqliteCollector('alone', { LOG_LEVEL: 'debug' }, [], async ({ child, store, output }) => {
        const collection = await waitFor(
          "a collection of the main thread's heap",
          async () => {
            if (child.exitCode !== null) throw exitedEarly(child, output());
            // Whole lines only: a chunk may end mid-line.
            const text = output();
            const lines = text.slice(0, text.lastIndexOf('\n')).split('\n');
            const at = lines.findIndex((entry) => entry.includes('collected the main thread'));
            if (at < 0) return undefined;
            // Bree logs each run's thread coming online (at debug).
            const runsBefore = lines.slice(0, at).filter((entry) => entry.includes('online')).length;
            return { runsBefore, ...(JSON.parse(lines[at]!) as { heapBefore: number; heapAfter: number }) };
          },
          30_000,
        );
        expect(collection.runsBefore).to.equal(RUNS_PER_MAIN_COLLECTION);
        expect(collection.heapAfter).to.be.below(collection.heapBefore);
        const storedCount = async (): Promise<number> => (await listRecords(store, { host: HOST, limit: 100, skip: 0 })).length;
        const before = await storedCount();
        await waitFor('a point after the collection', async () => ((await storedCount()) > before ? true : undefined));
        expect(child.exitCode, output()).to.equal(null);
      });
    });

    /**
     * Runs `collect` on SQLite under a wall clock the test sets (libfaketime), once
     * it has stored three points; `body` is given the clock, and the stored
     * timestamps of its host (oldest first), those that pass `filter`, once there
     * are three.
     */
    const withFakedClock = async (
      context: Mocha.Context,
      name: string,
      body: (run: { clock: FakedClock; before: number[]; threeWhere: (what: string, filter: (timestamp: number) => boolean) => Promise<number[]>; stored: () => Promise<number[]>; output: () => string }) => Promise<void>,
    ): Promise<void> => {
      const clock = await fakedClock(context, join(dir, `${name}-offset`));
      await withSqliteCollector(name, clock.env, [], async ({ child, store, output }) => {
        const stored = async (): Promise<number[]> => (await listRecords(store, { host: HOST, limit: 100, skip: 0 })).map((record) => record.timestamp);
        const threeWhere = (what: string, filter: (timestamp: number) => boolean): Promise<number[]> =>
          waitFor(what, async () => {
            if (child.exitCode !== null) throw exitedEarly(child, output());
            const timestamps = (await stored()).filter(filter);
            return timestamps.length >= 3 ? timestamps : undefined;
          });
        const before = await threeWhere('three points', () => true);
        await body({ clock, before, threeWhere, stored, output });
      });
    };

    it('follows the wall clock when it is set back, rather than sample nothing until it catches up', async function () {
      await withFakedClock(this, 'clock-back', async ({ clock, before, threeWhere, output }) => {
        // NTP stepping back a clock that ran a minute ahead.
        await clock.set('-60s');
        const after = await threeWhere('three points stamped by the clock as set back', (timestamp) => timestamp < before[0]!);
        expectContiguousSeconds(after);
        expect(after[0], 'the first point after the clock was set back').to.be.within(before.at(-1)! - 60, before.at(-1)! - 55);
        const warnings = output().split('\n').filter((line) => line.includes('"level":40'));
        expect(warnings.map((line) => (JSON.parse(line) as { msg: string }).msg)).to.deep.equal(['the clock was set back; ticks follow it']);
      });
    });

    it('stamps the first point after the clock is set forward with the tick it was taken at, not the tick it was due at', async function () {
      await withFakedClock(this, 'clock-forward', async ({ clock, threeWhere, stored, output }) => {
        // NTP stepping forward a clock that ran two minutes behind. A tick that fired
        // before the change (this process's clock is the real one) is at or before
        // its second; any later one was taken with the clock set forward.
        await clock.set('+120s');
        const changedSecond = Math.floor(Date.now() / 1_000);
        const after = await threeWhere('three points stamped by the clock as set forward', (timestamp) => timestamp > changedSecond + 100);
        const skipped = (await stored()).filter((timestamp) => timestamp > changedSecond && timestamp <= changedSecond + 100);
        expect(skipped, 'points taken after the change, stamped with ticks it skipped').to.deep.equal([]);
        // Not held to one a second: a run late under load skips a tick, as it may anywhere.
        expect(after.every((timestamp, i) => i === 0 || timestamp > after[i - 1]!), 'in order, none twice').to.equal(true);
        expect(output()).to.include('"msg":"tick taken late');
      });
    });

    it('refuses a bad configuration with one message naming every variable, exit code 78', async () => {
      const child = spawnCollector({ COLLECT_INTERVAL: 'often', SPOOL_MAX_POINTS: 'many' });
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const [code] = await once(child, 'exit');
      expect(code).to.equal(78);
      expect(stderr).to.include('COLLECT_INTERVAL').and.include('SPOOL_MAX_POINTS');
    });
  });
});
