/**
 * The API against its own store, side by side in one run: a year of minute points
 * (525,600) for one host, then `GET /memory-logs/?limit=L&skip=S` interleaved with
 * the equivalent raw store query, per case. Prints a Markdown table.
 *
 *   npm run bench:api-vs-store            (SQLite, and InfluxDB when influxd is on PATH)
 *
 * Raw SQLite: the store's plain page query (PAGE_SQL, LIMIT/OFFSET, returning the
 * JSON body) on a second connection in this process. Raw InfluxDB: the store's
 * InfluxQL page query over HTTP with the same time window, plus parsing its JSON
 * answer. The InfluxDB API runs twice: as deployed (INFLUX_READ_CACHE=1s) and with
 * a query for every request (INFLUX_READ_CACHE=0). Small pages (limit 10) are also
 * interleaved with the floor of any answer over HTTP here: a bare Koa + @koa/router
 * server answering the same 10 records as a fixed JSON text, asked by the same client.
 */
import Database from 'better-sqlite3';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { pageQuery } from '../storage/influxql.js';
import { NO_BOUND, PAGE_SQL } from '../storage/sqlite.js';
import { initialSpanSeconds } from '../storage/window.js';
import { influxdAvailable } from '../test/helpers/influxd.js';
import { HOST, YEAR_OF_MINUTES, runtimeLabel, seedYear, startApiProcess, startBareKoa, startInflux } from './fixtures.js';
import { median, percentile } from './proc-stats.js';
import { leaveNothingBehind, temporaryDirectory } from './leftovers.js';

leaveNothingBehind();

const CASES: Array<[limit: number, skip: number, rounds: number]> = [
  [10, 0, 400],
  [10, 3, 400],
  [1_000, 0, 200],
  [99_999, 0, 20],
  [10, 100_000, 200],
];

const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request(url, { agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks).toString()) : reject(new Error(`${url}: ${res.statusCode}`))));
    })
      .on('error', reject)
      .end();
  });
}

async function timeMs(call: () => unknown): Promise<number> {
  const start = performance.now();
  await call();
  return performance.now() - start;
}

interface Row {
  store: string;
  limit: number;
  skip: number;
  api: number[];
  raw: number[];
  /** Bare Koa's fixed 10 records, for pages of 10. */
  bare: number[];
}

/** The limit whose pages are also timed against bare Koa's fixed 10 records. */
const BARE_LIMIT = 10;

async function compare(store: string, apiPort: number, raw: (limit: number, skip: number) => unknown): Promise<Row[]> {
  const rows: Row[] = [];
  for (const [limit, skip, rounds] of CASES) {
    const url = `http://127.0.0.1:${apiPort}/memory-logs/?limit=${limit}&skip=${skip}`;
    const row: Row = { store, limit, skip, api: [], raw: [], bare: [] };
    const withBare = limit === BARE_LIMIT;
    for (let i = 0; i < Math.min(5, rounds); i++) {
      await get(url);
      await raw(limit, skip);
      if (withBare) await get(bare.url);
    }
    for (let i = 0; i < rounds; i++) {
      row.api.push(await timeMs(() => get(url)));
      row.raw.push(await timeMs(() => raw(limit, skip)));
      if (withBare) row.bare.push(await timeMs(() => get(bare.url)));
    }
    rows.push(row);
  }
  return rows;
}

const dir = await temporaryDirectory('mt-bench-api-');
const bare = await startBareKoa('text');
const rows: Row[] = [];

const sqlitePath = join(dir, 'year.sqlite');
await seedYear({ kind: 'sqlite', path: sqlitePath, timeoutMs: 5_000 });
{
  const api = await startApiProcess({ STORE: 'sqlite', SQLITE_PATH: sqlitePath });
  const db = new Database(sqlitePath, { readonly: true });
  const page = db.prepare(PAGE_SQL).pluck();
  rows.push(...(await compare('SQLite', api.port, (limit, skip) => page.get(HOST, NO_BOUND, limit, skip))));
  db.close();
  await api.stop();
}

if (influxdAvailable()) {
  const influx = await startInflux();
  const { config } = influx;
  await seedYear(config);
  const newest = Math.floor(Date.now() / 60_000) * 60;
  const upper = newest + 86_400;
  const raw = async (limit: number, skip: number): Promise<unknown> => {
    const from = newest - initialSpanSeconds(limit, skip, 60) + 1;
    const params = new URLSearchParams({ db: config.database, epoch: 's', q: pageQuery(HOST, from, upper, limit, skip) });
    return JSON.parse(await get(`${influx.url}/query?${params}`));
  };
  // As deployed (pages remembered for INFLUX_READ_CACHE, 1 s), then every request a query.
  for (const [store, readCache] of [['InfluxDB 1.6', '1s'], ['InfluxDB 1.6, INFLUX_READ_CACHE=0', '0']] as const) {
    const api = await startApiProcess({ ...influx.env, INFLUX_READ_CACHE: readCache });
    rows.push(...(await compare(store, api.port, raw)));
    await api.stop();
  }
  await influx.stop();
} else {
  console.error('influxd not found: InfluxDB rows left out');
}
await bare.stop();

const ms = (values: number[], p?: number): string => (p === undefined ? median(values) : percentile(values, p)).toFixed(2);
console.log(`API vs raw store, ${YEAR_OF_MINUTES.toLocaleString('en')} points, ${new Date().toISOString().slice(0, 10)}, ${runtimeLabel()}\n`);
console.log('| store | limit | skip | API median (ms) | API p95 | raw median (ms) | raw p95 | API / raw (medians) | bare Koa median (ms) | API / bare Koa |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const row of rows) {
  const bareCells = row.bare.length === 0 ? '| |' : `${ms(row.bare)} | ${(median(row.api) / median(row.bare)).toFixed(2)} |`;
  console.log(
    `| ${row.store} | ${row.limit} | ${row.skip} | ${ms(row.api)} | ${ms(row.api, 95)} | ${ms(row.raw)} | ${ms(row.raw, 95)} | ${(median(row.api) / median(row.raw)).toFixed(2)} | ${bareCells}`,
  );
}
agent.destroy();
