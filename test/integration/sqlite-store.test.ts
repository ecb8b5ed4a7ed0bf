import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../storage/sqlite.js';
import { point, storeContract } from './store-contract.js';
import { listRecords } from '../../storage/index.js';

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

  it('fails to open an unusable path with STORE_UNAVAILABLE', () => {
    expect(() => SqliteStore.open(config('/proc/version/not-a-dir/x.sqlite'))).to.throw().with.property('code', 'STORE_UNAVAILABLE');
  });
});
