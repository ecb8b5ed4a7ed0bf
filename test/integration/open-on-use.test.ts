import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StoreUnavailableError } from '../../errors.js';
import { openOnUse } from '../../storage/open-on-use.js';
import { SqliteStore } from '../../storage/sqlite.js';
import type { MemoryStore } from '../../storage/types.js';
import { writeNotADatabase } from '../helpers/sqlite-files.js';

const POINT = { host: 'h', timestamp: 1_647_033_600, total: 8_192, free: 2_048, used: 6_144 };

describe('openOnUse (real SQLite files)', () => {
  let dir: string;
  let path: string;
  let attempts: number;
  let opened: SqliteStore[];
  const open = async (): Promise<MemoryStore> => {
    attempts++;
    const store = SqliteStore.open({ kind: 'sqlite', path, timeoutMs: 1_000 });
    opened.push(store);
    return store;
  };
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mt-open-on-use-'));
    path = join(dir, 'memory.sqlite');
    attempts = 0;
    opened = [];
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('opens nothing until used', () => {
    openOnUse(open);
    expect(attempts).to.equal(0);
  });

  it('fails each call with the error of opening, and tries again at the next call', async () => {
    await writeNotADatabase(path);
    const store = openOnUse(open);
    for (let call = 0; call < 2; call++) {
      const error = await store.write([POINT]).then(() => undefined, (failure: unknown) => failure);
      expect(error).to.be.instanceOf(StoreUnavailableError);
    }
    expect(attempts).to.equal(2);
    await rm(path);
    await store.write([POINT]);
    expect(await store.listJson({ limit: 10, skip: 0 })).to.equal('[{"timestamp":1647033600,"total":8192,"free":2048,"used":6144}]');
    expect(attempts).to.equal(3);
    await store.close();
  });

  it('shares one attempt among calls made meanwhile, and closes the store it opened', async () => {
    const store = openOnUse(open);
    await Promise.all([store.health(), store.write([POINT]), store.listHosts()]);
    expect(attempts).to.equal(1);
    await store.close();
    const error = await opened[0]!.health().then(() => undefined, (failure: unknown) => failure);
    expect(error).to.be.instanceOf(StoreUnavailableError);
  });
});
