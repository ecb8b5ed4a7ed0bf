import { expect } from 'chai';
import { setTimeout as delay } from 'node:timers/promises';
import { StoreUnavailableError } from '../../errors.js';
import { listRecords } from '../../storage/index.js';
import { InfluxStore } from '../../storage/influx.js';
import { withReadCache } from '../../storage/read-cache.js';
import type { ListQuery, MemoryStore } from '../../storage/types.js';
import { sharedInflux, type InfluxTarget } from '../helpers/influx-fixture.js';
import { freePort } from '../helpers/ports.js';
import { point } from './store-contract.js';
import { failureOf } from '../helpers/failure.js';

const T0 = 1_700_000_000;
const newest = (limit: number): ListQuery => ({ host: 'h', limit, skip: 0 });

/** A real store that counts the pages asked of it. */
function counting(store: MemoryStore): { store: MemoryStore; reads: () => number } {
  let reads = 0;
  return {
    store: {
      write: (points, options) => store.write(points, options),
      listJson: (query) => {
        reads++;
        return store.listJson(query);
      },
      listHosts: () => store.listHosts(),
      health: () => store.health(),
      close: () => store.close(),
    },
    reads: () => reads,
  };
}

describe('The read cache (a real influxd, another process writing)', function () {
  let influx: InfluxTarget;
  before(async function () {
    this.timeout(60_000);
    influx = await sharedInflux(this);
  });

  it('serves a page again for its time, then reads anew', async () => {
    const config = influx.storeConfig();
    const writer = new InfluxStore(config);
    const reader = withReadCache(new InfluxStore(config), 1_000);
    await writer.write([point('h', T0)]);
    expect((await listRecords(reader, newest(5))).map((r) => r.timestamp)).to.deep.equal([T0]);
    await writer.write([point('h', T0 + 60)]);
    expect((await listRecords(reader, newest(5))).map((r) => r.timestamp)).to.deep.equal([T0]);
    expect((await listRecords(reader, newest(4))).map((r) => r.timestamp)).to.deep.equal([T0, T0 + 60]);
    await delay(1_100);
    expect((await listRecords(reader, newest(5))).map((r) => r.timestamp)).to.deep.equal([T0, T0 + 60]);
    await Promise.all([writer.close(), reader.close()]);
  });

  it('shows a write made through it at once', async () => {
    const store = withReadCache(new InfluxStore(influx.storeConfig()), 60_000);
    await store.write([point('h', T0)]);
    expect(await listRecords(store, newest(5))).to.have.length(1);
    await store.write([point('h', T0 + 60)]);
    expect(await listRecords(store, newest(5))).to.have.length(2);
    await store.close();
  });

  it('lets identical requests share one read, and never shares a large page', async () => {
    const config = influx.storeConfig();
    const real = new InfluxStore(config);
    await real.write(Array.from({ length: 30 }, (_, i) => point('h', T0 + i * 60)));
    const { store, reads } = counting(real);
    const cached = withReadCache(store, 60_000);
    const bodies = await Promise.all(Array.from({ length: 5 }, () => cached.listJson(newest(10))));
    expect(reads()).to.equal(1);
    expect(new Set(bodies).size).to.equal(1);
    expect(JSON.parse(bodies[0] as string)).to.have.length(10);
    await cached.listJson({ host: 'h', limit: 10, skip: 1 });
    expect(reads()).to.equal(2);
    await Promise.all([cached.listJson(newest(1_001)), cached.listJson(newest(1_001))]);
    expect(reads()).to.equal(4);
    await cached.close();
  });

  it('does not remember a failure', async () => {
    const { store, reads } = counting(new InfluxStore({ ...influx.storeConfig(), url: `http://127.0.0.1:${await freePort()}`, timeoutMs: 500 }));
    const cached = withReadCache(store, 60_000);
    for (let i = 0; i < 2; i++) {
      const failure = await failureOf(cached.listJson(newest(10)));
      expect(failure).to.be.instanceOf(StoreUnavailableError);
    }
    expect(reads()).to.equal(2);
    await cached.close();
  });
});
