import { expect } from 'chai';
import { InfluxStore } from '../../storage/influx.js';
import { startHttpProxy } from '../helpers/http-proxy.js';
import { privateInflux, sharedInflux, type InfluxTarget } from '../helpers/influx-fixture.js';
import type { InfluxServer } from '../helpers/influxd.js';
import { freePort } from '../helpers/ports.js';
import { point, storeContract } from './store-contract.js';
import { listRecords, openStore } from '../../storage/index.js';
import { failureOf } from '../helpers/failure.js';
import { startSilentServer } from '../helpers/silent-server.js';

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

  describe('on an InfluxDB that limits answers: whole ones cut past 3 rows, 30 time buckets and 2 series a query ([http] max-row-limit, [coordinator] max-select-buckets and max-select-series)', () => {
    let cutting: InfluxServer;
    before(async function () {
      this.timeout(60_000);
      cutting = await privateInflux(this, { maxRowLimit: 3, maxSelectBuckets: 30, maxSelectSeries: 2 });
    });
    after(async () => cutting?.destroy());
    storeContract({
      open: async (intervalSeconds) => new InfluxStore(cutting.storeConfig({ collectIntervalMs: intervalSeconds * 1_000 })),
      openUnreachable: async () => new InfluxStore({ ...cutting.storeConfig(), url: `http://127.0.0.1:${await freePort()}`, timeoutMs: 1_000 }),
    });

    it('lists the hosts once while it looks for the newest point window after window, not once a window', async () => {
      // An HTTP proxy in front of it that counts the listings of hosts.
      let listings = 0;
      const proxy = await startHttpProxy(Number(new URL(cutting.url).port), (url) => {
        if (new URL(url, cutting.url).searchParams.get('q')?.startsWith('SHOW TAG VALUES') === true) listings++;
        return url;
      });
      try {
        const config = cutting.storeConfig({ url: `http://127.0.0.1:${proxy.port}` });
        const store = new InfluxStore(config);
        // Three hosts, more than the server's 2 series a query, whose points are older
        // than the last hour, day, month and year: the newest is looked for in all five windows.
        await store.write(['a', 'b', 'c'].map((host, i) => point(host, 1_647_033_600 + i)));
        // The list of hosts learns the server's limit (a query over every point is refused).
        expect((await store.listHosts()).map(({ host }) => host)).to.deep.equal(['c', 'b', 'a']);
        listings = 0;
        expect(await listRecords(store, { limit: 10, skip: 0 })).to.deep.equal([point('c', 1_647_033_602)].map(({ host: _, ...record }) => record));
        expect(listings).to.equal(1);
        await store.close();
      } finally {
        await proxy.close();
      }
    });
  });

  it('answers a small page while 32 streamed pages wait on their readers (they hold connections of their own), and gives a 33rd up at the store timeout, saying why', async () => {
    const store = new InfluxStore(influx.storeConfig({ timeoutMs: 2_000 }));
    try {
      await store.write(Array.from({ length: 12_000 }, (_, i) => point('paged', 1_647_033_600 + i * 60)));
      // Each page begun and then not read on, as for a client that reads slowly: its answer holds its connection.
      const pages = await Promise.all(Array.from({ length: 32 }, () => store.listJson({ host: 'paged', limit: 12_000, skip: 0 })));
      const iterators = pages.map((page) => (page as AsyncIterable<string>)[Symbol.asyncIterator]());
      await Promise.all(iterators.map((iterator) => iterator.next()));
      expect(await listRecords(store, { host: 'paged', limit: 2, skip: 0 })).to.have.length(2);
      // A 33rd page waits for one of theirs, and is given up at the store's timeout, saying why.
      const waited = (await failureOf(store.listJson({ host: 'paged', limit: 12_000, skip: 0 }))) as Error;
      expect(waited.message).to.match(
        /^InfluxDB at \S+ no answer within 2000 ms \(STORE_TIMEOUT\): none of the 32 connections to it came free \(as many requests were still being answered\)$/,
      );
      await Promise.all(iterators.map((iterator) => iterator.return?.()));
    } finally {
      await store.close();
    }
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

  it('takes a write whose oldest points the retention policy drops as done, saying how many it dropped', async function () {
    this.timeout(60_000);
    const server = await privateInflux(this);
    try {
      const config = server.storeConfig();
      await server.createHourDatabase(config.database);
      const store = new InfluxStore(config);
      const now = Math.floor(Date.now() / 1_000);
      const kept = [point('a', now - 120), point('a', now - 60)];
      expect(await store.write([point('a', now - 7_200), point('a', now - 7_140), ...kept])).to.deep.equal({ beyondRetention: 2 });
      expect(await store.write([point('a', now - 5_000)])).to.deep.equal({ beyondRetention: 1 });
      expect(await store.write([point('a', now)])).to.deep.equal({ beyondRetention: 0 });
      expect(await listRecords(store, { limit: 10, skip: 0 })).to.deep.equal([...kept, point('a', now)].map(({ host: _, ...record }) => record));
    } finally {
      await server.destroy();
    }
  });

  it('still fails a write that InfluxDB stored only in part for another reason (a field type conflict)', async () => {
    const config = influx.storeConfig();
    // Another program's `memory` of floats first, in the shard the store writes to.
    await fetch(`${influx.url}/query`, { method: 'POST', body: new URLSearchParams({ q: `CREATE DATABASE "${config.database}"` }) });
    const floats = await fetch(`${influx.url}/write?db=${config.database}&precision=s`, { method: 'POST', body: 'memory,host=other total=1.5,free=1.0,used=0.5 1700000000' });
    expect(floats.status, await floats.text()).to.equal(204);
    const error = await failureOf(new InfluxStore(config).write([point('a', 1_700_000_060), point('a', 1_700_000_120)]));
    expect(error).to.have.property('code', 'STORE_REQUEST_FAILED');
    expect(error).to.have.property('message').that.matches(/^InfluxDB answered 400: partial write: field type conflict: .* dropped=2$/);
  });

  it('answers a query InfluxDB gives up (its own query-timeout) as STORE_UNAVAILABLE, as its own timeout', async function () {
    this.timeout(60_000);
    const impatient = await privateInflux(this, { queryTimeout: '1us' });
    try {
      const store = new InfluxStore(impatient.storeConfig());
      for (let batch = 0; batch < 10; batch++) {
        await store.write(Array.from({ length: 5_000 }, (_, i) => point('h', 1_700_000_000 + (batch * 5_000 + i) * 60)));
      }
      const error = await failureOf(listRecords(store, { limit: 10, skip: 40_000 }));
      expect(error).to.have.property('code', 'STORE_UNAVAILABLE');
      expect(error).to.have.property('message', 'InfluxDB gave up the query: query-timeout limit exceeded');
    } finally {
      await impatient.destroy();
    }
  });

  it('answers a timeout as STORE_UNAVAILABLE, without hanging', async () => {
    const silent = await startSilentServer();
    const store = new InfluxStore({ ...influx.storeConfig(), url: silent.url, timeoutMs: 300 });
    const error = await failureOf(listRecords(store, { limit: 10, skip: 0 }));
    await silent.close();
    expect(error).to.have.property('code', 'STORE_UNAVAILABLE');
    expect(error).to.have.property('message', `InfluxDB at ${silent.url} no answer within 300 ms (STORE_TIMEOUT)`);
  });

  it('says its caller stopped waiting, not that the server is unreachable, when the caller aborts', async () => {
    const silent = await startSilentServer();
    const store = new InfluxStore({ ...influx.storeConfig(), url: silent.url, timeoutMs: 10_000 });
    const error = await failureOf(store.write([point('a', 1_700_000_000)], { signal: AbortSignal.timeout(200) }));
    await silent.close();
    expect(error).to.have.property('code', 'STORE_UNAVAILABLE');
    expect(error).to.have.property('message', `InfluxDB at ${silent.url} no answer before its caller stopped waiting`);
  });

  describe('another service at INFLUX_URL', () => {
    /** A real HTTP server on loopback that answers every request with `answer`, never answers it ('silent'), or passes it to influxd. */
    async function startService(answer: (url: string) => { status: number; body: string } | 'silent' | undefined): Promise<{ url: string; close(): void }> {
      const { createServer, request: forward } = await import('node:http');
      const target = new URL(influx.url);
      const server = createServer((req, res) => {
        const own = answer(req.url ?? '');
        if (own === 'silent') return;
        if (own !== undefined) {
          res.writeHead(own.status, { 'Content-Type': own.body.startsWith('{') ? 'application/json' : 'text/html' }).end(own.body);
          return;
        }
        const upstream = forward({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (reply) => {
          res.writeHead(reply.statusCode ?? 502, reply.headers);
          reply.pipe(res);
        });
        req.pipe(upstream);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, close: () => server.close() };
    }

    it('answers InfluxDB\'s 404 page (INFLUX_URL with a wrong path) with STORE_UNAVAILABLE naming INFLUX_URL, on every call', async () => {
      const store = new InfluxStore({ ...influx.storeConfig(), url: `${influx.url}/influxdb` });
      for (const call of [() => store.health(), () => store.write([point('h', 1_700_000_000)]), () => listRecords(store, { limit: 10, skip: 0 })]) {
        const error = await failureOf(call());
        expect(error).to.have.property('code', 'STORE_UNAVAILABLE');
        expect(error).to.have.property('message', 'INFLUX_URL answered 404, and not as InfluxDB does ("404 page not found\\n"): check that it is InfluxDB\'s address, and any proxy in front of it');
      }
    });

    it('takes no write for stored from a service that answers 200 to everything', async () => {
      const catchAll = await startService(() => ({ status: 200, body: '<html><body>Welcome</body></html>' }));
      try {
        const store = new InfluxStore({ ...influx.storeConfig(), url: catchAll.url });
        const written = await failureOf(store.write([point('h', 1_700_000_000)]));
        expect(written).to.have.property('code', 'STORE_UNAVAILABLE');
        expect(written).to.have.property('message', 'INFLUX_URL answered 200 to a write, where InfluxDB answers 204: check that it is InfluxDB\'s address');
        const read = await failureOf(listRecords(store, { limit: 10, skip: 0 }));
        expect(read).to.have.property('code', 'STORE_UNAVAILABLE');
      } finally {
        catchAll.close();
      }
    });

    it('gives up a streamed page whose answer does not begin within the store timeout, saying so', async () => {
      const proxy = await startService((url) => (url.includes('chunked=true') ? 'silent' : undefined));
      try {
        const store = new InfluxStore({ ...influx.storeConfig(), url: proxy.url, timeoutMs: 2_000 });
        await store.write(Array.from({ length: 3 }, (_, i) => point('h', 1_700_000_000 + i * 60)));
        const error = await failureOf(listRecords(store, { limit: 99_999, skip: 0 }));
        expect(error).to.have.property('code', 'STORE_UNAVAILABLE');
        expect(error).to.have.property('message', `InfluxDB at ${proxy.url} no answer within 2000 ms (STORE_TIMEOUT)`);
      } finally {
        proxy.close();
      }
    });

    it('tells a streamed page\'s error answer apart as any other\'s: a refusal there is STORE_REFUSED', async () => {
      // A proxy in front of InfluxDB that refuses chunked queries, and only those.
      const proxy = await startService((url) => (url.includes('chunked=true') ? { status: 403, body: '{"error":"chunked queries are not allowed"}' } : undefined));
      try {
        const store = new InfluxStore({ ...influx.storeConfig(), url: proxy.url });
        await store.write(Array.from({ length: 3 }, (_, i) => point('h', 1_700_000_000 + i * 60)));
        expect(await listRecords(store, { limit: 10, skip: 0 })).to.have.length(3);
        const error = await failureOf(listRecords(store, { limit: 99_999, skip: 0 }));
        expect(error).to.have.property('code', 'STORE_REFUSED');
        expect((error as Error).message).to.match(/^InfluxDB answered 403: chunked queries are not allowed \(check INFLUX_TOKEN/);
      } finally {
        proxy.close();
      }
    });
  });
});
