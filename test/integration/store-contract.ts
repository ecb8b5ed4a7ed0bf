import { expect } from 'chai';
import { isDeepStrictEqual } from 'node:util';
import { StoreUnavailableError } from '../../errors.js';
import type { MemoryPoint, MemoryRecord, MemoryStore } from '../../storage/types.js';
import { listRecords } from '../../storage/index.js';
import { MAX_TIMESTAMP } from '../../storage/point.js';
import { failureOf } from '../helpers/failure.js';

export interface ContractTarget {
  /** A fresh, empty store for points one `intervalSeconds` apart. */
  open(intervalSeconds: number): Promise<MemoryStore>;
  /** A store whose backend cannot be reached. */
  openUnreachable(): Promise<MemoryStore>;
}

const T0 = 1_647_033_600; // the seed README's first example timestamp
const MINUTE = 60;

export function point(host: string, timestamp: number, used = 1_000 + (timestamp % 997)): MemoryPoint {
  return { host, timestamp, total: 8_192, free: 8_192 - used, used };
}

const record = ({ timestamp, total, free, used }: MemoryPoint): MemoryRecord => ({ timestamp, total, free, used });

/** The one behaviour every backend must have; run against each of them. */
export function storeContract(target: ContractTarget): void {
  const stores: MemoryStore[] = [];
  const open = async (intervalSeconds = MINUTE): Promise<MemoryStore> => {
    const store = await target.open(intervalSeconds);
    stores.push(store);
    return store;
  };
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
  });

  it('an empty store lists nothing', async () => {
    const store = await open();
    expect(await listRecords(store, { limit: 10, skip: 0 })).to.deep.equal([]);
    expect(await listRecords(store, { host: 'nobody', limit: 10, skip: 0 })).to.deep.equal([]);
    expect(await store.listHosts()).to.deep.equal([]);
  });

  describe('limit and skip', () => {
    const points = Array.from({ length: 5 }, (_, i) => point('a', T0 + i * MINUTE));
    let store: MemoryStore;
    before(async () => {
      store = await target.open(MINUTE);
      await store.write(points);
    });
    after(async () => store.close());

    const cases: Array<[limit: number, skip: number, expectedIndexes: number[]]> = [
      [10, 0, [0, 1, 2, 3, 4]],
      [5, 0, [0, 1, 2, 3, 4]],
      [2, 0, [3, 4]],
      [1, 0, [4]],
      [2, 3, [0, 1]],
      [3, 3, [0, 1]],
      [1, 4, [0]],
      [10, 5, []],
      [10, 6, []],
      [99_999, 0, [0, 1, 2, 3, 4]],
      [10, Number.MAX_SAFE_INTEGER, []],
    ];
    it('answers the API body byte for byte: compact, keys in order, oldest first', async () => {
      const [a, b] = [points[3]!, points[4]!];
      expect(await store.listJson({ limit: 2, skip: 0 })).to.equal(
        `[{"timestamp":${a.timestamp},"total":${a.total},"free":${a.free},"used":${a.used}},` +
          `{"timestamp":${b.timestamp},"total":${b.total},"free":${b.free},"used":${b.used}}]`,
      );
      expect(await store.listJson({ limit: 2, skip: 5 })).to.equal('[]');
    });

    for (const [limit, skip, indexes] of cases) {
      it(`limit=${limit} skip=${skip} returns points ${JSON.stringify(indexes)}, oldest first`, async () => {
        expect(await listRecords(store, { limit, skip })).to.deep.equal(indexes.map((i) => record(points[i]!)));
      });
    }
  });

  it('writing the same host and timestamp again overwrites instead of duplicating', async () => {
    const store = await open();
    expect(await store.write([point('a', T0, 100)]), 'every point stored').to.deep.equal({ beyondRetention: 0 });
    await store.write([point('a', T0, 200), point('a', T0 + MINUTE, 300)]);
    expect(await listRecords(store, { limit: 10, skip: 0 })).to.deep.equal([record(point('a', T0, 200)), record(point('a', T0 + MINUTE, 300))]);
  });

  it('serves the host of the newest point by default, any host on request, and lists hosts newest first', async () => {
    const store = await open();
    await store.write([point('old', T0), point('old', T0 + MINUTE), point('new', T0 + 2 * MINUTE), point('mid', T0 + MINUTE)]);
    expect(await listRecords(store, { limit: 10, skip: 0 })).to.deep.equal([record(point('new', T0 + 2 * MINUTE))]);
    expect(await listRecords(store, { host: 'old', limit: 10, skip: 0 })).to.deep.equal([record(point('old', T0)), record(point('old', T0 + MINUTE))]);
    expect(await listRecords(store, { host: 'absent', limit: 10, skip: 0 })).to.deep.equal([]);
    expect(await store.listHosts()).to.deep.equal([
      { host: 'new', latestTimestamp: T0 + 2 * MINUTE },
      { host: 'mid', latestTimestamp: T0 + MINUTE },
      { host: 'old', latestTimestamp: T0 + MINUTE },
    ]);
  });

  it('keeps hosts with spaces, commas, equals signs and quotes apart', async () => {
    const store = await open();
    const hosts = ['web 1', 'a,b=c', "o'neil", 'db "primary"', 'ünïcode-höst'];
    await store.write(hosts.map((host, i) => point(host, T0 + i)));
    for (const [i, host] of hosts.entries()) {
      expect(await listRecords(store, { host, limit: 10, skip: 0 }), host).to.deep.equal([record(point(host, T0 + i))]);
    }
    expect((await store.listHosts()).map(({ host }) => host).sort()).to.deep.equal([...hosts].sort());
  });

  it('finds points across gaps of months and years, in order', async () => {
    const store = await open();
    // Ten points, far apart: a window sized for minute spacing holds one of them.
    const spaced = [0, 1, 2, 90, 91, 400, 401, 402, 800, 1_500].map((day) => point('gappy', T0 + day * 86_400));
    await store.write(spaced);
    expect(await listRecords(store, { limit: 10, skip: 0 })).to.deep.equal(spaced.map(record));
    expect(await listRecords(store, { limit: 3, skip: 2 })).to.deep.equal(spaced.slice(5, 8).map(record));
    expect(await listRecords(store, { limit: 5, skip: 8 })).to.deep.equal(spaced.slice(0, 2).map(record));
    expect(await listRecords(store, { limit: 5, skip: 10 })).to.deep.equal([]);
  });

  it('finds deep pages exactly across gaps and points closer than the interval', async () => {
    const store = await open();
    // Oldest to newest: 12,000 points a minute apart, 40 days of nothing, 8,000
    // points 10 s apart, 3 hours of nothing, 10,000 points a minute apart.
    const run = (from: number, count: number, step: number): MemoryPoint[] => Array.from({ length: count }, (_, i) => point('deep', from + i * step));
    const first = run(T0, 12_000, MINUTE);
    const dense = run(first.at(-1)!.timestamp + 40 * 86_400, 8_000, 10);
    const newest = run(dense.at(-1)!.timestamp + 3 * 3_600, 10_000, MINUTE);
    const all = [...first, ...dense, ...newest];
    for (let i = 0; i < all.length; i += 10_000) await store.write(all.slice(i, i + 10_000));
    // Small pages, then streamed ones (more than 10,000 points) whose ends lie deep
    // or past the oldest point.
    const pages = [[10, 9_995], [10, 10_000], [30, 14_000], [25, 17_990], [10, 25_000], [10, 29_995], [10, 30_000], [12_000, 5_000], [10_001, 19_999], [12_000, 20_000], [12_000, 29_999]] as const;
    for (const [limit, skip] of pages) {
      const end = all.length - skip;
      const expected = all.slice(Math.max(0, end - limit), Math.max(0, end)).map(record);
      expect(await listRecords(store, { limit, skip }), `limit ${limit}, skip ${skip}`).to.deep.equal(expected);
    }
  });

  it('rejects a point no store can hold with POINT_INVALID', async () => {
    const store = await open();
    const pastInfluxDb = { ...point('a', T0), timestamp: MAX_TIMESTAMP + 1 };
    for (const bad of [point('', T0), point('a\nb', T0), { ...point('a', T0), used: 1.5 }, { ...point('a', T0), timestamp: -1 }, pastInfluxDb]) {
      const error = await failureOf(store.write([bad]));
      expect(error, JSON.stringify(bad)).to.have.property('code', 'POINT_INVALID');
    }
    expect(await listRecords(store, { limit: 10, skip: 0 })).to.deep.equal([]);
  });

  it('answers health, and reports an unreachable backend as STORE_UNAVAILABLE', async () => {
    const store = await open();
    await store.health();
    const unreachable = await target.openUnreachable();
    stores.push(unreachable);
    for (const call of [() => unreachable.health(), () => listRecords(unreachable, { limit: 10, skip: 0 }), () => unreachable.write([point('a', T0)])]) {
      const error = await failureOf(call());
      expect(error).to.be.instanceOf(StoreUnavailableError);
      expect(error).to.have.property('code', 'STORE_UNAVAILABLE');
    }
  });

  describe('a year of minute points (525,600)', function () {
    this.timeout(180_000);
    const YEAR = 525_600;
    const start = Math.floor(Date.now() / 1_000 / MINUTE) * MINUTE - YEAR * MINUTE;
    const at = (i: number): MemoryPoint => point('year', start + i * MINUTE);
    let store: MemoryStore;
    before(async () => {
      store = await target.open(MINUTE);
      const batch = 10_000;
      for (let i = 0; i < YEAR; i += batch) {
        await store.write(Array.from({ length: Math.min(batch, YEAR - i) }, (_, j) => at(i + j)));
      }
    });
    after(async () => store.close());

    it('answers the newest 10', async () => {
      expect(await listRecords(store, { limit: 10, skip: 0 })).to.deep.equal(Array.from({ length: 10 }, (_, i) => record(at(YEAR - 10 + i))));
    });

    it('answers 10 points 100,000 deep', async () => {
      expect(await listRecords(store, { limit: 10, skip: 100_000 })).to.deep.equal(Array.from({ length: 10 }, (_, i) => record(at(YEAR - 100_010 + i))));
    });

    it('answers the largest page (99,999), oldest first', async () => {
      const page = await listRecords(store, { limit: 99_999, skip: 0 });
      expect(page).to.have.length(99_999);
      expect(page[0]).to.deep.equal(record(at(YEAR - 99_999)));
      expect(page[99_998]).to.deep.equal(record(at(YEAR - 1)));
      expect(page.every((one, i) => i === 0 || one.timestamp - page[i - 1]!.timestamp === MINUTE)).to.equal(true);
    });

    it('answers a large page, text and all, exactly as one JSON document would', async () => {
      const body = await store.listJson({ limit: 25_001, skip: 7 });
      let text = '';
      if (typeof body === 'string') text = body;
      else for await (const piece of body) text += piece;
      const expected = Array.from({ length: 25_001 }, (_, i) => record(at(YEAR - 7 - 25_001 + i)));
      expect(text).to.equal(JSON.stringify(expected));
    });

    it('answers the very first points of the year', async () => {
      const expected = [0, 1, 2].map((i) => record(at(i)));
      const answer = await listRecords(store, { limit: 10, skip: YEAR - 3 });
      // Behind InfluxDB's read cache, under load, this answered [] once in dozens of
      // runs and never again since: a wrong answer is asked again, and both go into
      // the failure, to tell a passing glitch (the store's) from a wrong page (ours).
      // Again as limit=11, the same 3 points: a page the read cache has not kept.
      if (!isDeepStrictEqual(answer, expected)) {
        const again = await listRecords(store, { limit: 11, skip: YEAR - 3 });
        expect.fail(`answered ${JSON.stringify(answer)}, then ${JSON.stringify(again)} when asked again; expected ${JSON.stringify(expected)}`);
      }
    });
  });
}
