import Database from 'better-sqlite3';
import { expect } from 'chai';
import { mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ADDON_PATH, OWN_ADDON, SqliteStore, VERSION_CHECK_MS } from '../../storage/sqlite.js';
import { point, storeContract } from './store-contract.js';
import { listRecords } from '../../storage/index.js';
import type { MemoryPoint } from '../../storage/types.js';
import { writeNotADatabase } from '../helpers/sqlite-files.js';
import { failureOf } from '../helpers/failure.js';

describe('SqliteStore (real SQLite files)', () => {
  let dir: string;
  let files = 0;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mt-sqlite-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  const config = (path: string) => ({ kind: 'sqlite' as const, path, timeoutMs: 1_000 });

  storeContract({
    open: async () => SqliteStore.open(config(join(dir, `store-${files++}.sqlite`))),
    // A path under a regular file can never be opened as a directory.
    openUnreachable: async () => {
      const store = SqliteStore.open(config(join(dir, `gone-${files++}.sqlite`)));
      await store.close();
      return store;
    },
  });

  it('keeps its points across a reopen (a real file, in WAL mode)', async () => {
    const path = join(dir, 'reopen.sqlite');
    const first = SqliteStore.open(config(path));
    await first.write([point('a', 100), point('a', 160)]);
    await first.close();
    const second = SqliteStore.open(config(path));
    expect(await listRecords(second, { limit: 10, skip: 0 })).to.have.length(2);
    await second.close();
  });

  it('streams at most 32 large pages at once: a 33rd waits for one to end, up to the store timeout, saying why', async () => {
    const store = SqliteStore.open({ ...config(join(dir, 'streamed.sqlite')), timeoutMs: 500 });
    const large = { host: 'paged', limit: 12_000, skip: 0 };
    try {
      await store.write(Array.from({ length: 12_000 }, (_, i) => point('paged', 1_647_033_600 + i * 60)));
      // Each page begun and then not read on, as for a client that reads slowly.
      const pages = await Promise.all(Array.from({ length: 32 }, () => store.listJson(large)));
      const iterators = pages.map((page) => (page as AsyncIterable<string>)[Symbol.asyncIterator]());
      await Promise.all(iterators.map((iterator) => iterator.next()));
      expect(await listRecords(store, { host: 'paged', limit: 2, skip: 0 }), 'a small page').to.have.length(2);
      const waited = (await failureOf(store.listJson(large))) as Error & { code?: string };
      expect(waited.code).to.equal('STORE_UNAVAILABLE');
      expect(waited.message).to.equal('SQLite store busy: 32 large pages were being sent, as many as it streams at once, and none ended within 500 ms (STORE_TIMEOUT)');
      // One ending lets the next in: a page read to its end, then one given up unread.
      const waiting = store.listJson(large);
      for (let piece = await iterators[0]!.next(); piece.done !== true; piece = await iterators[0]!.next());
      const next = (await waiting) as AsyncIterable<string>;
      let json = '';
      for await (const piece of next) json += piece;
      expect(JSON.parse(json)).to.have.length(12_000);
      const afterReturn = store.listJson(large);
      await iterators[1]!.return?.(undefined);
      const returned = ((await afterReturn) as AsyncIterable<string>)[Symbol.asyncIterator]();
      await returned.next();
      await returned.return?.(undefined);
      // 30 pages still held: pages that hold no points take one of the 2 free places, and give it back.
      for (let i = 0; i < 33; i++) expect(await store.listJson({ ...large, host: 'nobody' })).to.equal('[]');
      await Promise.all(iterators.slice(2).map((iterator) => iterator.return?.(undefined)));
    } finally {
      await store.close();
    }
  });

  it('keeps deep skips exact through overwrites and points written out of order (the day counts)', async () => {
    const store = SqliteStore.open(config(join(dir, 'days.sqlite')));
    const day = 86_400;
    // 3 days of 1,000 points each, written newest day first, then every point again.
    const all = [2, 1, 0].flatMap((d) => Array.from({ length: 1_000 }, (_, i) => point('h', d * day + i * 60)));
    await store.write(all);
    await store.write(all.slice(500, 2_500));
    await expectPagesAt(store, [...all].sort((a, b) => a.timestamp - b.timestamp), [999, 1_000, 1_001, 1_999, 2_000, 2_990, 3_000, 5_000]);
    await store.close();
  });

  it("keeps deep skips exact after older points are deleted from another connection (the README's pruning), its remembered pages too", async () => {
    const path = join(dir, 'pruned.sqlite');
    const store = SqliteStore.open(config(path));
    const day = 86_400;
    const all = [0, 1, 2].flatMap((d) => Array.from({ length: 1_000 }, (_, i) => point('h', d * day + i * 60)));
    await store.write(all);
    expect(await listRecords(store, { limit: 15, skip: 2_990 }), 'before').to.have.length(10);
    // As the README's `sqlite3` command does, with its cutoff mid-way through the second day.
    const cutoff = day + 500 * 60;
    const other = new Database(path);
    other.prepare('DELETE FROM memory WHERE time < ?').run(cutoff);
    other.close();
    // Past the store's next check of its file's data_version.
    await sleep(2 * VERSION_CHECK_MS);
    await expectPagesAt(store, all.filter((one) => one.timestamp >= cutoff), [0, 999, 1_000, 1_001, 1_490, 1_499, 1_500, 2_990]);
    await store.close();
  });

  // Without it every collector run pays for the driver's own search (bench:collector).
  it("finds the driver's addon where it gives its path to the driver", async () => {
    expect(ADDON_PATH).to.be.a('string');
    expect((await stat(ADDON_PATH!)).isFile()).to.equal(true);
  });

  // Found by one stat, not by resolving the package, which costs every collector run
  // (bench:collector); resolving finds the same file.
  it("finds the addon in the package's own node_modules, where resolving finds it too", () => {
    const own = join(import.meta.dirname, '..', '..', '..', 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
    expect(OWN_ADDON).to.equal(own);
    expect(ADDON_PATH).to.equal(own);
    expect(createRequire(import.meta.url).resolve('better-sqlite3/build/Release/better_sqlite3.node')).to.equal(own);
  });

  it('follows its file when it is removed or replaced while open (a reset, a restored backup)', async () => {
    const path = join(dir, 'followed.sqlite');
    const timestamps = async (store: SqliteStore) => (await listRecords(store, { limit: 10, skip: 0 })).map((one) => one.timestamp);
    // SQLite applies the WAL beside a path to whatever file is there: a file is
    // removed or replaced with its -wal and -shm, never alone.
    const removeFiles = async () => {
      for (const suffix of ['', '-wal', '-shm']) await rm(`${path}${suffix}`, { force: true });
    };
    // Past the store's next check of its file.
    const afterCheck = () => sleep(2 * VERSION_CHECK_MS);
    const store = SqliteStore.open(config(path));
    await store.write([point('old', 100)]);
    expect(await timestamps(store)).to.deep.equal([100]);

    // A reset: the files removed, and a collector run starts a new one.
    await removeFiles();
    const collector = SqliteStore.open(config(path));
    await collector.write([point('new', 160)]);
    await collector.close();
    await afterCheck();
    expect(await timestamps(store), 'the page after a reset').to.deep.equal([160]);
    expect(await store.listHosts()).to.deep.equal([{ host: 'new', latestTimestamp: 160 }]);

    // A backup moved in (closed, so one file without a WAL).
    const backup = SqliteStore.open(config(join(dir, 'backup.sqlite')));
    await backup.write([point('restored', 200), point('restored', 260)]);
    await backup.close();
    await removeFiles();
    await rename(join(dir, 'backup.sqlite'), path);
    await afterCheck();
    expect(await timestamps(store), 'the page after a restore').to.deep.equal([200, 260]);
    await store.write([point('restored', 320)]);
    const reader = SqliteStore.open(config(path));
    expect(await timestamps(reader), 'the restored file, read afresh').to.deep.equal([200, 260, 320]);
    await reader.close();

    // Removed with nobody to start a new file: the store starts one, as a start would.
    await removeFiles();
    await afterCheck();
    expect(await timestamps(store), 'the page after the files were removed').to.deep.equal([]);
    expect((await stat(path)).isFile()).to.equal(true);
    await store.close();
  });

  it('opens whatever is at the path, and fails each call on an unusable path with STORE_UNAVAILABLE', async () => {
    const store = SqliteStore.open(config('/proc/version/not-a-dir/x.sqlite'));
    const failure = await failureOf(store.health());
    expect(failure).to.have.property('code', 'STORE_UNAVAILABLE');
    expect(failure).to.have.property('message', "SQLite store unavailable (ENOTDIR: not a directory, mkdir '/proc/version/not-a-dir')");
    await store.close();
  });

  it('refuses a file that holds another database with STORE_UNAVAILABLE, and leaves it as it was', async () => {
    const foreign = {
      'another program': 'CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); PRAGMA user_version = 7;',
      'a memory table of other columns': 'CREATE TABLE memory (id INTEGER PRIMARY KEY, bytes INTEGER); INSERT INTO memory (bytes) VALUES (42);',
      // user_version is any program's to use: ours, 2, does not make the file ours.
      'another program at this store\'s user_version': 'CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); PRAGMA user_version = 2;',
      'a memory table of our columns but not our key, at our user_version': 'CREATE TABLE memory (host TEXT, time INTEGER, total INTEGER, free INTEGER, used INTEGER); PRAGMA user_version = 2;',
    };
    for (const [what, sql] of Object.entries(foreign)) {
      const path = join(dir, `foreign-${files++}.sqlite`);
      const schemaOf = (): unknown => {
        const db = new Database(path, { readonly: true });
        try {
          return {
            schema: db.prepare('SELECT type, name, sql FROM sqlite_schema ORDER BY name').all(),
            version: db.pragma('user_version', { simple: true }),
            journal: db.pragma('journal_mode', { simple: true }),
          };
        } finally {
          db.close();
        }
      };
      const db = new Database(path);
      db.exec(sql);
      db.close();
      const before = schemaOf();
      const store = SqliteStore.open(config(path));
      for (const call of [() => store.health(), () => store.write([point('h', 100)])]) {
        const failure = await failureOf(call());
        expect(failure, what).to.have.property('code', 'STORE_UNAVAILABLE');
        expect((failure as Error).message, what).to.match(/^SQLite store unavailable: .* holds another database \(tables: (users|memory)\); give SQLITE_PATH a file of its own$/);
      }
      await store.close();
      expect(schemaOf(), what).to.deep.equal(before);
    }
  });

  it('takes a file of its earlier schema (no day counts, user_version 1) and adds what is missing', async () => {
    const path = join(dir, `earlier-${files++}.sqlite`);
    const db = new Database(path);
    db.exec(`CREATE TABLE memory (host TEXT NOT NULL, time INTEGER NOT NULL, total INTEGER NOT NULL, free INTEGER NOT NULL, used INTEGER NOT NULL, PRIMARY KEY (host, time)) WITHOUT ROWID;
      INSERT INTO memory VALUES ('h', 100, 8192, 2048, 6144), ('h', 86500, 8192, 2048, 6144);
      PRAGMA user_version = 1;`);
    db.close();
    const store = SqliteStore.open(config(path));
    expect((await listRecords(store, { limit: 10, skip: 0 })).map((one) => one.timestamp)).to.deep.equal([100, 86_500]);
    await store.close();
    const reopened = new Database(path, { readonly: true });
    expect(reopened.prepare('SELECT day, points FROM memory_days ORDER BY day').raw().all()).to.deep.equal([[0, 1], [1, 1]]);
    reopened.close();
  });

  it('opened on a file that cannot be opened yet, tries again at each call until it opens', async () => {
    const path = join(dir, 'not-yet.sqlite');
    await writeNotADatabase(path);
    const store = SqliteStore.open(config(path));
    for (let call = 0; call < 2; call++) {
      const failure = await failureOf(store.write([point('h', 100)]));
      expect(failure, `call ${call}`).to.have.property('message', 'SQLite store unavailable (SQLITE_NOTADB: file is not a database)');
    }
    await rm(path);
    await store.write([point('h', 100)]);
    expect((await listRecords(store, { limit: 10, skip: 0 })).map((one) => one.timestamp)).to.deep.equal([100]);
    await store.close();
  });
});

/**
 * Checks the pages of 15 at each skip against `points` (one host's, oldest first),
 * and the page large enough to be streamed, which finds its bounds the same way.
 */
async function expectPagesAt(store: SqliteStore, points: readonly MemoryPoint[], skips: readonly number[]): Promise<void> {
  const timestamps = (from: number, to: number): number[] => points.slice(Math.max(0, from), Math.max(0, to)).map((one) => one.timestamp);
  for (const skip of skips) {
    const end = points.length - skip;
    expect((await listRecords(store, { limit: 15, skip })).map((one) => one.timestamp), `skip ${skip}`).to.deep.equal(timestamps(end - 15, end));
    expect((await listRecords(store, { limit: 10_001, skip })).map((one) => one.timestamp), `streamed, skip ${skip}`).to.deep.equal(timestamps(0, end));
  }
}
