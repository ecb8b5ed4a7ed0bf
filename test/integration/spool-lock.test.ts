import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { deliver } from '../../collector/collect.js';
import { Spool } from '../../collector/spool.js';
import { lockSpool, SpoolLockedError } from '../../collector/spool-lock.js';
import { listRecords } from '../../storage/index.js';
import { SqliteStore } from '../../storage/sqlite.js';
import type { MemoryPoint, MemoryStore } from '../../storage/types.js';
import { caseDirs } from '../helpers/case-dirs.js';
import { spooledPoints } from '../helpers/spooled.js';

const never = new AbortController().signal;

describe('Spool lock (real files)', () => {
  const fresh = caseDirs('mt-spool-lock-');

  it('lets a second run in only once the first has released the spool', async () => {
    const spoolDir = fresh();
    const releaseFirst = await lockSpool(spoolDir, 'host test', 10_000, never);
    let secondIn = false;
    const second = lockSpool(spoolDir, 'host test', 10_000, never).then((release) => ((secondIn = true), release));
    await sleep(300);
    expect(secondIn, 'while the first holds it').to.equal(false);
    releaseFirst();
    (await second)();
    expect(secondIn).to.equal(true);
  });

  it('takes over a lock older than the run timeout, and its old holder cannot remove the new one', async () => {
    const spoolDir = fresh();
    const releaseEnded = await lockSpool(spoolDir, 'host test', 10_000, never);
    const lock = join(spoolDir, 'points.lock');
    const longAgo = new Date(Date.now() - 11_000);
    await utimes(lock, longAgo, longAgo);
    const releaseNext = await lockSpool(spoolDir, 'host test', 10_000, AbortSignal.timeout(1_000));
    const nextOwner = await readFile(lock, 'utf8');
    releaseEnded();
    expect(await readFile(lock, 'utf8')).to.equal(nextOwner);
    releaseNext();
    await expectGone(lock);
  });

  it('gives up when its run must end, naming the holder and the likely cause', async () => {
    const spoolDir = fresh();
    const release = await lockSpool(spoolDir, 'host test', 10_000, never);
    const error = await lockSpool(spoolDir, 'host test', 10_000, AbortSignal.timeout(200)).then(
      () => expect.fail('the lock was held'),
      (caught: unknown) => caught,
    );
    expect(error).to.be.instanceOf(SpoolLockedError).and.include({ code: 'SPOOL_LOCKED' });
    expect((error as Error).message).to.include(spoolDir).and.include(`host test, pid ${process.pid}`).and.include('SPOOL_DIR');
    release();
  });

  it('does not mistake a lock file someone else wrote for its own', async () => {
    const spoolDir = fresh();
    const release = await lockSpool(spoolDir, 'host test', 10_000, never);
    const lock = join(spoolDir, 'points.lock');
    await writeFile(lock, 'another collector\n');
    release();
    expect(await readFile(lock, 'utf8')).to.equal('another collector\n');
  });

  it('on a full disk, goes on without a lock and leaves none behind', async () => {
    const spoolDir = fresh();
    // A file size limit of 0 fails every write as a full disk does, while files can still be made.
    const script = `
      const { lockSpool } = await import(${JSON.stringify(new URL('../../collector/spool-lock.js', import.meta.url).href)});
      const { existsSync } = await import('node:fs');
      for (let run = 0; run < 2; run++) (await lockSpool(${JSON.stringify(spoolDir)}, 'host full', 60_000, AbortSignal.timeout(1_000)))();
      console.log(JSON.stringify({ lockLeft: existsSync(${JSON.stringify(join(spoolDir, 'points.lock'))}) }));`;
    const child = spawn('bash', ['-c', `trap '' XFSZ; ulimit -f 0; exec "${process.execPath}" --input-type=module -e "$0"`, script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const [code] = await once(child, 'exit');
    expect(code, err).to.equal(0);
    expect(JSON.parse(out)).to.deep.equal({ lockLeft: false });
  });

  it('two collectors sharing one spool and a flaky store lose no point', async () => {
    const root = fresh();
    const spoolDir = join(root, 'spool');
    const store = SqliteStore.open({ kind: 'sqlite', path: join(root, 'db.sqlite'), timeoutMs: 1_000 });
    const flaky = everyOtherWriteFails(store);
    const runs = 40;
    const collector = async (host: string): Promise<void> => {
      for (let tick = 1; tick <= runs; tick++) {
        const release = await lockSpool(spoolDir, `host ${host}`, 10_000, AbortSignal.timeout(5_000));
        try {
          const point: MemoryPoint = { host, timestamp: tick * 60, total: 100, free: 40, used: 60 };
          await deliver([point], { store: flaky, spool: new Spool(spoolDir, 10_000), signal: never, replayUntilMs: Date.now() + 5_000 });
        } finally {
          release();
        }
      }
    };
    await Promise.all([collector('a'), collector('b')]);
    const spooled = spooledPoints(new Spool(spoolDir, 10_000));
    for (const host of ['a', 'b']) {
      const stored = (await listRecords(store, { host, limit: 1_000, skip: 0 })).map((record) => record.timestamp);
      const kept = new Set([...stored, ...spooled.filter((point) => point.host === host).map((point) => point.timestamp)]);
      expect(kept.size, `points of ${host} stored or spooled`).to.equal(runs);
    }
    await store.close();
  });
});

/** The real store, refusing every other write as a store that comes and goes would. */
function everyOtherWriteFails(store: MemoryStore): MemoryStore {
  let writes = 0;
  return {
    write: async (points, options) => {
      if (writes++ % 2 === 1) throw new Error('store down for this write');
      return store.write(points, options);
    },
    listJson: (query) => store.listJson(query),
    listHosts: () => store.listHosts(),
    health: () => store.health(),
    close: () => store.close(),
  };
}

async function expectGone(path: string): Promise<void> {
  const error = await readFile(path).then(() => undefined, (caught: NodeJS.ErrnoException) => caught);
  expect(error?.code).to.equal('ENOENT');
}
