import { expect } from 'chai';
import { InfluxStore } from '../../storage/influx.js';
import { privateInflux, sharedInflux, type InfluxTarget } from '../helpers/influx-fixture.js';
import { freePort } from '../helpers/ports.js';
import { point, storeContract } from './store-contract.js';
import { listRecords, openStore } from '../../storage/index.js';

type QueryBody = { results: Array<{ series: Array<{ values: unknown[][] }> }> };

describe('InfluxStore (a real influxd, InfluxQL over HTTP)', function () {
  let influx: InfluxTarget;
  before(async function () {
    this.timeout(60_000);
    influx = await sharedInflux(this);
  });

  storeContract({
    open: async (intervalSeconds) => new InfluxStore(influx.storeConfig({ collectIntervalMs: intervalSeconds * 1_000 })),
    openUnreachable: async () => new InfluxStore({ ...influx.storeConfig(), url: `http://127.0.0.1:${await freePort()}`, timeoutMs: 1_000 }),
  });

  describe('behind the read cache, as openStore gives it', () => {
    storeContract({
      open: async (intervalSeconds) => openStore(influx.storeConfig({ collectIntervalMs: intervalSeconds * 1_000, readCacheMs: 1_000 })),
      openUnreachable: async () => openStore({ ...influx.storeConfig(), url: `http://127.0.0.1:${await freePort()}`, timeoutMs: 1_000, readCacheMs: 1_000 }),
    });
  });

  it('creates its database on the first write', async () => {
    const config = influx.storeConfig();
    const store = new InfluxStore(config);
    await store.write([point('a', 1_700_000_000)]);
    const response = await fetch(`${influx.url}/query?q=${encodeURIComponent('SHOW DATABASES')}`);
    expect(JSON.stringify(await response.json())).to.include(config.database);
  });

  it('writes the documented data model: measurement memory, tag host, integer fields, seconds', async () => {
    const config = influx.storeConfig();
    const store = new InfluxStore(config);
    await store.write([point('model-host', 1_700_000_000, 1_234)]);
    const q = encodeURIComponent('SELECT "total", "free", "used", "host" FROM "memory"');
    const body = (await (await fetch(`${influx.url}/query?db=${config.database}&epoch=s&q=${q}`)).json()) as QueryBody;
    expect(body.results[0]!.series[0]!.values).to.deep.equal([[1_700_000_000, 8_192, 8_192 - 1_234, 1_234, 'model-host']]);
    const fields = encodeURIComponent('SHOW FIELD KEYS FROM "memory"');
    const keys = (await (await fetch(`${influx.url}/query?db=${config.database}&q=${fields}`)).json()) as QueryBody;
    expect(keys.results[0]!.series[0]!.values).to.deep.equal([['free', 'integer'], ['total', 'integer'], ['used', 'integer']]);
  });

  it('answers a query InfluxDB gives up (its own query-timeout) as STORE_UNAVAILABLE, as its own timeout', async function () {
    this.timeout(60_000);
    const impatient = await privateInflux(this, { queryTimeout: '1us' });
    try {
      const store = new InfluxStore(impatient.storeConfig());
      for (let batch = 0; batch < 10; batch++) {
        await store.write(Array.from({ length: 5_000 }, (_, i) => point('h', 1_700_000_000 + (batch * 5_000 + i) * 60)));
      }
      const error = await listRecords(store, { limit: 10, skip: 40_000 }).then(() => undefined, (caught: unknown) => caught);
      expect(error).to.have.property('code', 'STORE_UNAVAILABLE');
      expect(error).to.have.property('message', 'InfluxDB gave up the query: query-timeout limit exceeded');
    } finally {
      await impatient.destroy();
    }
  });

  it('answers a timeout as STORE_UNAVAILABLE, without hanging', async () => {
    // A listener that accepts connections but never answers.
    const { createServer } = await import('node:net');
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    const store = new InfluxStore({ ...influx.storeConfig(), url: `http://127.0.0.1:${port}`, timeoutMs: 300 });
    const error = await listRecords(store, { limit: 10, skip: 0 }).then(() => undefined, (caught: unknown) => caught);
    silent.close();
    expect(error).to.have.property('code', 'STORE_UNAVAILABLE');
  });
});
