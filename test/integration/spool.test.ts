import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { appendFile, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deliver, type UnsavedPointsError } from '../../collector/collect.js';
import { SEGMENT_LINES, Spool } from '../../collector/spool.js';
import { InfluxStore } from '../../storage/influx.js';
import { SqliteStore } from '../../storage/sqlite.js';
import type { MemoryPoint } from '../../storage/types.js';
import type { InfluxStoreConfig } from '../../config.js';
import { caseDirs } from '../helpers/case-dirs.js';
import { privateInflux, sharedInflux } from '../helpers/influx-fixture.js';
import { freePort } from '../helpers/ports.js';
import { listRecords } from '../../storage/index.js';
import { spooledPoints } from '../helpers/spooled.js';

const at = (timestamp: number): MemoryPoint => ({ host: 'h', timestamp, total: 100, free: 40, used: 60 });

/** A real SQLite store that does `beforeWrite` (throw: the store fails; abort: the run's deadline passes) first at its `n`th write. */
function atNthWrite(sqlite: SqliteStore, n: number, beforeWrite: () => void): Pick<SqliteStore, 'write'> {
  let writes = 0;
  return {
    write: async (points) => {
      if (++writes === n) beforeWrite();
      return sqlite.write(points);
    },
  };
}

/** A spool that can be neither made nor read: a file stands where its parent would be. */
async function unusableSpool(root: string): Promise<Spool> {
  await writeFile(join(root, 'not-a-directory'), '');
  return new Spool(join(root, 'not-a-directory', 'spool'), 10_000);
}

describe('Spool and delivery (real files, real stores)', function () {
  this.timeout(60_000);
  const fresh = caseDirs('mt-spool-');

  it('appends durably and reads back in order', async () => {
    const spool = new Spool(fresh(), 100);
    spool.append([at(1), at(2)]);
    spool.append([at(3)]);
    expect([...spool.batches(1_000)]).to.deep.equal([{ points: [at(1), at(2), at(3)], skippedLines: 0, end: 3 }]);
    expect(spool.size()).to.equal(3);
  });

  it('skips a torn last line without losing the lines before or after it', async () => {
    const spool = new Spool(fresh(), 100);
    spool.append([at(1), at(2)]);
    await appendFile(join(spool.dir, 'points-0000000000000000.jsonl'), '{"host":"h","timestamp":3,"tot');
    expect([...spool.batches(1_000)]).to.deep.equal([{ points: [at(1), at(2)], skippedLines: 1, end: 3 }]);
    spool.append([at(4)]);
    expect([...spool.batches(1_000)]).to.deep.equal([{ points: [at(1), at(2), at(4)], skippedLines: 1, end: 4 }]);
  });

  it('does not glue a new line onto a complete last line that lost its newline', async () => {
    const spool = new Spool(fresh(), 100);
    spool.append([at(1)]);
    await appendFile(join(spool.dir, 'points-0000000000000000.jsonl'), JSON.stringify(at(2)));
    spool.append([at(3)]);
    expect(spooledPoints(spool)).to.deep.equal([at(1), at(2), at(3)]);
  });

  it('a full spool drops the oldest first and counts them', async () => {
    const spool = new Spool(fresh(), 3);
    expect(spool.append([at(1), at(2)])).to.equal(0);
    expect(spool.append([at(3), at(4), at(5)])).to.equal(2);
    expect(spooledPoints(spool)).to.deep.equal([at(3), at(4), at(5)]);
    expect(spool.size()).to.equal(3);
  });

  it(`keeps its lines in segments of ${SEGMENT_LINES}, in order across them, and removes delivered ones by whole segments`, async () => {
    const spool = new Spool(fresh(), 10_000);
    const points = Array.from({ length: 2_500 }, (_, i) => at(i + 1));
    spool.append(points.slice(0, 700));
    spool.append(points.slice(700));
    expect(await readdir(spool.dir)).to.deep.equal(['points-0000000000000000.jsonl', 'points-0000000000001000.jsonl', 'points-0000000000002000.jsonl']);
    expect([...spool.batches(1_000)].map(({ points: batch, end }) => [batch[0]!.timestamp, batch.length, end])).to.deep.equal([
      [1, 1_000, 1_000],
      [1_001, 1_000, 2_000],
      [2_001, 500, 2_500],
    ]);
    spool.removeBefore(1_500);
    expect(await readdir(spool.dir)).to.deep.equal(['head-0000000000001500', 'points-0000000000001000.jsonl', 'points-0000000000002000.jsonl']);
    expect(spooledPoints(spool)).to.deep.equal(points.slice(1_500));
    spool.removeBefore(2_500);
    expect(await readdir(spool.dir)).to.deep.equal(['head-0000000000002500']);
    expect(spool.size()).to.equal(0);
    spool.append([at(9_999)]);
    expect(await readdir(spool.dir), 'positions go on from the marker').to.deep.equal(['head-0000000000002500', 'points-0000000000002500.jsonl']);
    expect(spooledPoints(spool)).to.deep.equal([at(9_999)]);
  });

  it('when full, drops the oldest without rewriting the segments it keeps', async () => {
    const spool = new Spool(fresh(), 2_500);
    spool.append(Array.from({ length: 2_500 }, (_, i) => at(i + 1)));
    const kept = ['points-0000000000001000.jsonl', 'points-0000000000002000.jsonl'];
    const before = await Promise.all(kept.map((name) => stat(join(spool.dir, name))));
    expect(spool.append([at(2_501)])).to.equal(1);
    const after = await Promise.all(kept.map((name) => stat(join(spool.dir, name))));
    expect(after.map((file) => file.ino), 'the same files').to.deep.equal(before.map((file) => file.ino));
    expect(after[0]!.mtimeMs, 'the older one untouched').to.equal(before[0]!.mtimeMs);
    expect(after[1]!.size - before[1]!.size, 'the newest one appended to').to.equal(Buffer.byteLength(`${JSON.stringify(at(2_501))}\n`));
    expect(spool.size()).to.equal(2_500);
    expect(spooledPoints(spool)[0]).to.deep.equal(at(2));
  });

  it('does not send again the segments behind the marker that a crash left undeleted, and deletes them', async () => {
    const spool = new Spool(fresh(), 10_000);
    spool.append(Array.from({ length: 1_500 }, (_, i) => at(i + 1)));
    const first = join(spool.dir, 'points-0000000000000000.jsonl');
    const saved = await readFile(first);
    spool.removeBefore(1_000);
    await writeFile(first, saved);
    expect(spool.size()).to.equal(500);
    expect(spooledPoints(spool)[0]).to.deep.equal(at(1_001));
    expect(await readdir(spool.dir)).to.deep.equal(['head-0000000000001000', 'points-0000000000001000.jsonl']);
  });

  it("takes over an earlier version's spool file, in segments, its points first, in order", async () => {
    const dir = fresh();
    await mkdir(dir, { recursive: true });
    const earlier = Array.from({ length: 1_500 }, (_, i) => at(i + 1));
    await writeFile(join(dir, 'points.jsonl'), earlier.map((point) => `${JSON.stringify(point)}\n`).join(''));
    const spool = new Spool(dir, 10_000);
    expect(spool.size()).to.equal(1_500);
    spool.append([at(1_501)]);
    expect(spooledPoints(spool)).to.deep.equal([...earlier, at(1_501)]);
    expect(await readdir(dir)).to.deep.equal(['points-0000000000000000.jsonl', 'points-0000000000001000.jsonl']);
  });

  it('writes straight to a healthy store, leaving no spool', async () => {
    const root = fresh();
    const store = SqliteStore.open({ kind: 'sqlite', path: join(root, 'db.sqlite'), timeoutMs: 1_000 });
    const spool = new Spool(join(root, 'spool'), 100);
    const report = await deliver([at(60)], { store, spool, signal: new AbortController().signal, replayUntilMs: Date.now() + 5_000 });
    expect(report).to.deep.equal({ written: 1, beyondRetention: 0, replayed: 0, spooled: 0, dropped: 0, skippedLines: 0 });
    expect(await listRecords(store, { limit: 10, skip: 0 })).to.have.length(1);
    expect(spooledPoints(spool)).to.deep.equal([]);
    await store.close();
  });

  it('on a full disk, still delivers what is spooled and the new point to a store that takes them; with the store down too, leaves the spool as it was', async function () {
    const influx = await sharedInflux(this);
    const config = influx.storeConfig();
    const spoolDir = fresh();
    const spool = new Spool(spoolDir, 1_000);
    spool.append([at(60), at(120)]);
    const before = await readdir(spoolDir);
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
    expect(await readdir(spoolDir)).to.deep.equal(before);
    expect(spooledPoints(spool)).to.deep.equal([at(60), at(120)]);

    const up = await deliverOnFullDisk(config, at(240));
    expect(up.code, up.err).to.equal(0);
    expect(JSON.parse(up.out)).to.deep.include({ written: 3, replayed: 2, spooled: 0 });
    expect(JSON.parse(up.out).spoolError).to.match(/^EFBIG/);
    const store = new InfluxStore(config);
    expect((await listRecords(store, { host: 'h', limit: 10, skip: 0 })).map((record) => record.timestamp)).to.deep.equal([60, 120, 240]);
    await store.close();
    expect(spooledPoints(spool), 'emptied, as nothing is left to send').to.deep.equal([]);
  });

  it('a store that fails partway through a replay keeps what it acknowledged out of the spool, and the rest queued in order', async () => {
    const root = fresh();
    const sqlite = SqliteStore.open({ kind: 'sqlite', path: join(root, 'db.sqlite'), timeoutMs: 1_000 });
    const store = atNthWrite(sqlite, 2, () => {
      throw new Error('store went away');
    });
    const spool = new Spool(join(root, 'spool'), 10_000);
    const spooled = Array.from({ length: 2_500 }, (_, i) => at(60 * (i + 1)));
    spool.append(spooled);
    const report = await deliver([at(60 * 2_501)], { store, spool, signal: new AbortController().signal, replayUntilMs: Date.now() + 10_000 });
    expect(report).to.deep.equal({ written: 1_000, beyondRetention: 0, replayed: 1_000, spooled: 1_501, dropped: 0, skippedLines: 0, storeError: 'store went away' });
    expect(spooledPoints(spool)).to.deep.equal([...spooled.slice(1_000), at(60 * 2_501)]);
    expect(await listRecords(sqlite, { limit: 99_999, skip: 0 })).to.have.length(1_000);
    const rest = await deliver([at(60 * 2_502)], { store, spool, signal: new AbortController().signal, replayUntilMs: Date.now() + 10_000 });
    expect(rest).to.deep.equal({ written: 1_502, beyondRetention: 0, replayed: 1_501, spooled: 0, dropped: 0, skippedLines: 0 });
    expect(await listRecords(sqlite, { limit: 99_999, skip: 0 })).to.have.length(2_502);
    await sqlite.close();
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
    expect(spooledPoints(spool)).to.deep.equal([]);
    await sqlite.close();
  });

  it('with the spool unusable, returns as unsent what the store had no time for, rather than failing the run', async () => {
    const root = fresh();
    const sqlite = SqliteStore.open({ kind: 'sqlite', path: join(root, 'db.sqlite'), timeoutMs: 1_000 });
    const deadline = new AbortController();
    // The run's deadline passes during the second write, which the store still takes.
    const store = atNthWrite(sqlite, 2, () => deadline.abort());
    const spool = await unusableSpool(root);
    const points = Array.from({ length: 2_500 }, (_, i) => at(60 * (i + 1)));
    const report = await deliver(points, { store, spool, signal: deadline.signal, replayUntilMs: Date.now() + 10_000 });
    expect(report).to.deep.include({ written: 2_000, replayed: 0, spooled: 0, unsent: points.slice(2_000) });
    expect(report.storeError).to.equal(undefined);
    expect(report.spoolError).to.match(/^ENOTDIR/);
    expect(await listRecords(sqlite, { limit: 99_999, skip: 0 })).to.have.length(2_000);
    await sqlite.close();
  });

  it('with the spool unusable, a store that fails partway leaves the rest unsaved, and what it stored counted', async () => {
    const root = fresh();
    const sqlite = SqliteStore.open({ kind: 'sqlite', path: join(root, 'db.sqlite'), timeoutMs: 1_000 });
    const store = atNthWrite(sqlite, 2, () => {
      throw new Error('store went away');
    });
    const spool = await unusableSpool(root);
    const points = Array.from({ length: 2_500 }, (_, i) => at(60 * (i + 1)));
    const thrown = await deliver(points, { store, spool, signal: new AbortController().signal, replayUntilMs: Date.now() + 10_000 }).then(
      () => expect.fail('the run should fail'),
      (error: unknown) => error as UnsavedPointsError,
    );
    expect(thrown.code).to.equal('POINTS_UNSAVED');
    expect(thrown.points).to.deep.equal(points.slice(1_000));
    expect(thrown.report).to.deep.include({ written: 1_000, replayed: 0, spooled: 0, storeError: 'store went away' });
    expect(await listRecords(sqlite, { limit: 99_999, skip: 0 })).to.have.length(1_000);
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
    expect(await readdir(spool.dir), 'delivered segments deleted').to.deep.equal(['head-0000000000000004']);
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
      expect(spooledPoints(spool)).to.deep.equal([]);
      spool.append([at(now - 7_200), at(now - 7_140), at(now - 60)]);
      expect(await deliver([at(now)], options)).to.deep.equal({ written: 2, beyondRetention: 2, replayed: 3, spooled: 0, dropped: 0, skippedLines: 0 });
      expect(spooledPoints(spool)).to.deep.equal([]);
      expect((await listRecords(store, { host: 'h', limit: 10, skip: 0 })).map((r) => r.timestamp)).to.deep.equal([now - 60, now]);
    } finally {
      await influx.destroy();
    }
  });

  it('an aborted run keeps its point in the spool', async () => {
    const root = fresh();
    const spool = new Spool(join(root, 'spool'), 100);
    const store = SqliteStore.open({ kind: 'sqlite', path: join(root, 'db.sqlite'), timeoutMs: 1_000 });
    spool.append([at(60)]);
    const cancelled = new AbortController();
    cancelled.abort();
    const report = await deliver([at(120)], { store, spool, signal: cancelled.signal, replayUntilMs: Date.now() + 5_000 });
    expect(report.spooled).to.equal(2);
    expect(spooledPoints(spool)).to.deep.equal([at(60), at(120)]);
    await store.close();
  });
});
