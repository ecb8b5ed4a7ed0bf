import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deliver } from '../../collector/collect.js';
import { Spool } from '../../collector/spool.js';
import { InfluxStore } from '../../storage/influx.js';
import { SqliteStore } from '../../storage/sqlite.js';
import type { MemoryPoint } from '../../storage/types.js';
import type { InfluxStoreConfig } from '../../config.js';
import { caseDirs } from '../helpers/case-dirs.js';
import { privateInflux, sharedInflux } from '../helpers/influx-fixture.js';
import { freePort } from '../helpers/ports.js';
import { listRecords } from '../../storage/index.js';

const at = (timestamp: number): MemoryPoint => ({ host: 'h', timestamp, total: 100, free: 40, used: 60 });

describe('Spool and delivery (real files, real stores)', function () {
  this.timeout(60_000);
  const fresh = caseDirs('mt-spool-');

  it('appends durably and reads back in order', async () => {
    const spool = new Spool(fresh(), 100);
    spool.append(spool.read(), [at(1), at(2)]);
    spool.append(spool.read(), [at(3)]);
    expect(spool.read()).to.deep.equal({ points: [at(1), at(2), at(3)], skippedLines: 0, clean: true });
  });

  it('skips a torn last line without losing the lines before it, and heals the file', async () => {
    const spool = new Spool(fresh(), 100);
    spool.append(spool.read(), [at(1), at(2)]);
    await appendFile(spool.path, '{"host":"h","timestamp":3,"tot');
    const torn = spool.read();
    expect(torn).to.deep.equal({ points: [at(1), at(2)], skippedLines: 1, clean: false });
    spool.append(torn, [at(4)]);
    expect(spool.read()).to.deep.equal({ points: [at(1), at(2), at(4)], skippedLines: 0, clean: true });
  });

  it('does not glue a new line onto a complete last line that lost its newline', async () => {
    const spool = new Spool(fresh(), 100);
    spool.append(spool.read(), [at(1)]);
    await appendFile(spool.path, JSON.stringify(at(2)));
    spool.append(spool.read(), [at(3)]);
    expect(spool.read().points).to.deep.equal([at(1), at(2), at(3)]);
  });

  it('a full spool drops the oldest first and counts them', async () => {
    const spool = new Spool(fresh(), 3);
    expect(spool.append(spool.read(), [at(1), at(2)])).to.equal(0);
    expect(spool.append(spool.read(), [at(3), at(4), at(5)])).to.equal(2);
    expect(spool.read().points).to.deep.equal([at(3), at(4), at(5)]);
  });

  it('writes straight to a healthy store, leaving no spool', async () => {
    const root = fresh();
    const store = SqliteStore.open({ kind: 'sqlite', path: join(root, 'db.sqlite'), timeoutMs: 1_000 });
    const spool = new Spool(join(root, 'spool'), 100);
    const report = await deliver([at(60)], { store, spool, signal: new AbortController().signal, replayUntilMs: Date.now() + 5_000 });
    expect(report).to.deep.equal({ written: 1, beyondRetention: 0, replayed: 0, spooled: 0, dropped: 0, skippedLines: 0 });
    expect(await listRecords(store, { limit: 10, skip: 0 })).to.have.length(1);
    expect(spool.read().points).to.deep.equal([]);
    await store.close();
  });

  it('on a full disk, still delivers what is spooled and the new point to a store that takes them; with the store down too, leaves the spool as it was', async function () {
    const influx = await sharedInflux(this);
    const config = influx.storeConfig();
    const spoolDir = fresh();
    const spool = new Spool(spoolDir, 1_000);
    spool.append(spool.read(), [at(60), at(120)]);
    const before = await readFile(spool.path, 'utf8');
    // The delivery in a process whose file size limit is 0: every write fails as on a
    // full disk, while a file can still be made, renamed or emptied.
    const deliverOnFullDisk = async (store: InfluxStoreConfig, point: MemoryPoint): Promise<{ code: number; out: string; err: string }> => {
      const script = `
        const { deliver } = await import(${JSON.stringify(new URL('../../collector/collect.js', import.meta.url).href)});
        const { Spool } = await import(${JSON.stringify(new URL('../../collector/spool.js', import.meta.url).href)});
        const { InfluxStore } = await import(${JSON.stringify(new URL('../../storage/influx.js', import.meta.url).href)});
        const store = new InfluxStore(${JSON.stringify(store)});
        try {
          const report = await deliver([${JSON.stringify(point)}], { store, spool: new Spool(${JSON.stringify(spoolDir)}, 1000), signal: new AbortController().signal, replayUntilMs: Date.now() + 10000 });
          console.log(JSON.stringify(report));
        } catch (error) {
          console.log(JSON.stringify({ thrown: error.code, unsaved: error.points, message: error.message }));
        } finally {
          await store.close();
        }`;
      const child = spawn('bash', ['-c', `trap '' XFSZ; ulimit -f 0; exec "${process.execPath}" --input-type=module -e "$0"`, script], { stdio: ['ignore', 'pipe', 'pipe'] });
      let [out, err] = ['', ''];
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      const [code] = (await once(child, 'close')) as [number];
      return { code, out, err };
    };

    const down = await deliverOnFullDisk({ ...config, url: `http://127.0.0.1:${await freePort()}`, timeoutMs: 500 }, at(180));
    expect(down.code, down.err).to.equal(0);
    const unsaved = JSON.parse(down.out) as { thrown: string; unsaved: MemoryPoint[]; message: string };
    expect(unsaved.thrown, 'neither the store nor the spool took the point: the run fails').to.equal('POINTS_UNSAVED');
    expect(unsaved.unsaved, 'the new point, for the caller to hold; the spooled ones stay spooled').to.deep.equal([at(180)]);
    expect(unsaved.message).to.match(/^neither the store \(InfluxDB at \S+ unreachable\) nor the spool \(EFBIG: file too large, write\) took 1 point$/);
    expect(await readFile(spool.path, 'utf8')).to.equal(before);

    const up = await deliverOnFullDisk(config, at(240));
    expect(up.code, up.err).to.equal(0);
    expect(JSON.parse(up.out)).to.deep.include({ written: 3, replayed: 2, spooled: 0 });
    expect(JSON.parse(up.out).spoolError).to.match(/^EFBIG/);
    const store = new InfluxStore(config);
    expect((await listRecords(store, { host: 'h', limit: 10, skip: 0 })).map((record) => record.timestamp)).to.deep.equal([60, 120, 240]);
    await store.close();
    expect(spool.read().points, 'emptied, as nothing is left to send').to.deep.equal([]);
  });

  it('sends many points at once (held through a long failure) in batches of 1,000, spooled first', async () => {
    const root = fresh();
    const sqlite = SqliteStore.open({ kind: 'sqlite', path: join(root, 'db.sqlite'), timeoutMs: 1_000 });
    const writes: number[] = [];
    const store = { write: async (points: readonly MemoryPoint[]) => (writes.push(points.length), sqlite.write(points)) };
    const spool = new Spool(join(root, 'spool'), 10_000);
    const points = Array.from({ length: 2_500 }, (_, i) => at(60 * (i + 1)));
    const report = await deliver(points, { store, spool, signal: new AbortController().signal, replayUntilMs: Date.now() + 10_000 });
    expect(writes).to.deep.equal([1_000, 1_000, 500]);
    expect(report).to.deep.equal({ written: 2_500, beyondRetention: 0, replayed: 0, spooled: 0, dropped: 0, skippedLines: 0 });
    expect(await listRecords(sqlite, { limit: 99_999, skip: 0 })).to.have.length(2_500);
    expect(spool.read().points).to.deep.equal([]);
    await sqlite.close();
  });

  it('spools while the store is down, then replays everything in order and empties the spool', async () => {
    const root = fresh();
    const spool = new Spool(join(root, 'spool'), 1_000);
    const down = new InfluxStore({ kind: 'influxdb', url: `http://127.0.0.1:${await freePort()}`, database: 'x', username: undefined, password: undefined, token: undefined, timeoutMs: 500, collectIntervalMs: 60_000, readCacheMs: 0 });
    const options = { spool, signal: new AbortController().signal, replayUntilMs: Date.now() + 10_000 };
    for (const t of [60, 120, 180]) {
      const report = await deliver([at(t)], { ...options, store: down });
      expect(report.storeError).to.be.a('string');
      expect(report.spooled).to.equal(t / 60);
    }
    const store = SqliteStore.open({ kind: 'sqlite', path: join(root, 'db.sqlite'), timeoutMs: 1_000 });
    const report = await deliver([at(240)], { ...options, store });
    expect(report).to.deep.equal({ written: 4, beyondRetention: 0, replayed: 3, spooled: 0, dropped: 0, skippedLines: 0 });
    expect((await listRecords(store, { limit: 10, skip: 0 })).map((r) => r.timestamp)).to.deep.equal([60, 120, 180, 240]);
    expect(await readFile(spool.path, 'utf8')).to.equal('');
    await store.close();
  });

  it('counts points InfluxDB dropped as older than its retention policy as delivered, not stored, and keeps none of them spooled', async function () {
    const influx = await privateInflux(this);
    try {
      const config = influx.storeConfig();
      await influx.createHourDatabase(config.database);
      const store = new InfluxStore(config);
      const spool = new Spool(join(fresh(), 'spool'), 100);
      const options = { store, spool, signal: new AbortController().signal, replayUntilMs: Date.now() + 10_000 };
      const now = Math.floor(Date.now() / 1_000);
      expect(await deliver([at(now - 7_200)], options)).to.deep.equal({ written: 0, beyondRetention: 1, replayed: 0, spooled: 0, dropped: 0, skippedLines: 0 });
      expect(spool.read().points).to.deep.equal([]);
      spool.append(spool.read(), [at(now - 7_200), at(now - 7_140), at(now - 60)]);
      expect(await deliver([at(now)], options)).to.deep.equal({ written: 2, beyondRetention: 2, replayed: 3, spooled: 0, dropped: 0, skippedLines: 0 });
      expect(spool.read().points).to.deep.equal([]);
      expect((await listRecords(store, { host: 'h', limit: 10, skip: 0 })).map((r) => r.timestamp)).to.deep.equal([now - 60, now]);
    } finally {
      await influx.destroy();
    }
  });

  it('an aborted run keeps its point in the spool', async () => {
    const root = fresh();
    const spool = new Spool(join(root, 'spool'), 100);
    const store = SqliteStore.open({ kind: 'sqlite', path: join(root, 'db.sqlite'), timeoutMs: 1_000 });
    spool.append(spool.read(), [at(60)]);
    const cancelled = new AbortController();
    cancelled.abort();
    const report = await deliver([at(120)], { store, spool, signal: cancelled.signal, replayUntilMs: Date.now() + 5_000 });
    expect(report.spooled).to.equal(2);
    expect(spool.read().points).to.deep.equal([at(60), at(120)]);
    await store.close();
  });
});
