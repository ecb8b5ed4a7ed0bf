import { AppError, StoreRequestError, StoreUnavailableError } from '../errors.js';
import type { InfluxStoreConfig } from '../config.js';
import type { IncomingMessage } from 'node:http';
import { bucketAt, type BucketCount } from './counts.js';
import { countQuery, HOSTS_QUERY, newestQuery, oldestQuery, pageBoundsQuery, pageQuery, rangeQuery, toLine, type Position } from './influxql.js';
import { bodyText, HttpClient, NoFreeConnectionError, tlsFailure, type HttpResponse } from './http.js';
import { CHECK_INFLUX_URL, influxAnswerError, pointsBeyondRetention } from './influx-errors.js';
import { chunkRecords, cutShort, joinChunks, parseResults, refusedLimit, rowsToJson, seriesOf, type Rows, type Series } from './influx-json.js';
import { assertValidPoints } from './point.js';
import { ALL_STORED, STREAM_ABOVE_ROWS, STREAMED_PAGES, type HostSummary, type JsonBody, type ListQuery, type MemoryPoint, type MemoryStore, type RequestOptions, type WriteReceipt } from './types.js';
import { findNewest, hostsByNewest, NewestCache, pageInWindows, type Newest } from './window.js';

/** Where a streamed page lies: its newest and oldest points' times, within a window from `from`. */
interface PageBounds {
  readonly from: number;
  readonly top: number | undefined;
  readonly bottom: number | undefined;
}

/**
 * Rows per piece of InfluxDB's chunked answer: each piece and the JSON made of it
 * stay far below the 128 KiB from which V8 keeps a string until a full collection.
 * Fewer pieces (500, 2,000 rows) raised the peak memory of `bench:throughput`'s
 * InfluxDB `limit=99999` rows, at the same speed.
 */
const STREAM_CHUNK_ROWS = 250;

/**
 * From how deep a position is found by counting points per bucket rather than by
 * `OFFSET`. InfluxDB steps over every point an `OFFSET` passes, and counts points
 * about three times faster than it steps over them, so below this depth the count's
 * extra round trip costs more than it saves.
 */
const COUNT_FROM_OFFSET = 10_000;

/** Collection intervals a counting bucket spans: a day at one point a minute. */
const BUCKET_INTERVALS = 1_440;

/**
 * InfluxDB over its HTTP API: line protocol to `/write`, InfluxQL from `/query`.
 * That one dialect is served by InfluxDB 1.x, 2.x (v1 compatibility API) and 3.x.
 * The only file that speaks InfluxDB's HTTP API. Every read carries a bounded time
 * range: InfluxDB 3 refuses unbounded scans and 1.x prunes shards by time.
 */
export class InfluxStore implements MemoryStore {
  private readonly headers: Record<string, string>;
  private readonly intervalSeconds: number;
  private readonly bucketSeconds: number;
  private readonly http = new HttpClient();
  /**
   * Streamed pages' own connections: each holds one for as long as its client takes
   * to read it, and 32 slow clients held every connection the other requests had.
   */
  private readonly pageHttp = new HttpClient(STREAMED_PAGES);
  private readonly newest = new NewestCache();
  /** The server's max-select-buckets, once a count has met it ([coordinator] in its configuration; 0, none, by default). */
  private maxCountBuckets: number | undefined;
  /** The server's max-select-series, once a query across hosts has met it ([coordinator]; 0, none, by default). */
  private maxSelectSeries: number | undefined;

  constructor(private readonly config: InfluxStoreConfig) {
    this.headers = authorization(config);
    this.intervalSeconds = Math.max(1, Math.round(config.collectIntervalMs / 1_000));
    this.bucketSeconds = this.intervalSeconds * BUCKET_INTERVALS;
  }

  /** Creates the database where the server allows it (1.x); elsewhere a no-op. */
  private async ensureDatabase(options?: RequestOptions): Promise<void> {
    const body = new URLSearchParams({ q: `CREATE DATABASE "${this.config.database.replace(/"/g, '\\"')}"` });
    try {
      await this.request('/query', 'POST', body.toString(), options);
    } catch (error) {
      // 2.x and 3.x have no CREATE DATABASE on this API (buckets are made there by
      // their own tools, or on first write); an unreachable server shows up again
      // on the next real request, where it is handled.
      if (error instanceof StoreUnavailableError) throw error;
    }
  }

  async write(points: readonly MemoryPoint[], options?: RequestOptions): Promise<WriteReceipt> {
    if (points.length === 0) return ALL_STORED;
    assertValidPoints(points);
    const body = points.map(toLine).join('\n');
    this.newest.clear();
    try {
      return await this.writeLines(body, options);
    } catch (error) {
      if (!(error instanceof StoreRequestError && /database not found/i.test(error.message))) throw error;
      await this.ensureDatabase(options);
      return await this.writeLines(body, options);
    }
  }

  /**
   * Every InfluxDB (1.x, 2.x, 3.x) answers a write it stored with 204. Any other
   * success is another service at `INFLUX_URL` (a catch-all page): taking it for a
   * stored point would lose the point, so it stays the collector's to spool. A
   * "partial write" of points beyond the retention policy stored all the others:
   * failing it would keep sending points InfluxDB will never keep, and with them
   * every point queued behind them.
   */
  private async writeLines(body: string, options?: RequestOptions): Promise<WriteReceipt> {
    const params = new URLSearchParams({ db: this.config.database, precision: 's' });
    const response = await this.exchange(`/write?${params}`, 'POST', body, options);
    if (response.status === 204) return ALL_STORED;
    const beyondRetention = pointsBeyondRetention(response.body);
    if (beyondRetention !== undefined) return { beyondRetention };
    if (isSuccess(response)) {
      throw new StoreUnavailableError(`INFLUX_URL answered ${response.status} to a write, where InfluxDB answers 204: ${CHECK_INFLUX_URL}`);
    }
    throw influxAnswerError(response.status, response.body);
  }

  async listJson({ host, limit, skip }: ListQuery): Promise<JsonBody> {
    const newest = await this.newest.get(host, () => findNewest(this.latestByWindow(host)));
    if (newest === undefined) return '[]';
    if (limit > STREAM_ABOVE_ROWS) return this.streamPage(newest, limit, skip);
    const rows = await pageInWindows<Rows>(newest, { limit, skip }, this.intervalSeconds, {
      page: async (from, to) => {
        const [at] = await this.positions(newest.host, from, to, [skip]);
        return at === undefined ? [] : this.select(pageQuery(newest.host, from, at.toSeconds, limit, at.offset));
      },
      complete: (rows) => rows.length >= limit,
      oldest: (to) => this.findOldest(newest.host, to),
    });
    return rowsToJson(rows);
  }

  async listHosts(): Promise<HostSummary[]> {
    return hostsByNewest(await this.latest(0));
  }

  /**
   * A read that needs the credentials and the database's rights, rather than
   * `/ping`, which InfluxDB answers to anyone: wrong credentials then show at start
   * and in `/readyz`. The pages' own query for the newest point, from now on: the
   * same dialect as every read, over a window that holds nothing. A database not
   * created yet (before the first write) passes.
   */
  async health(): Promise<void> {
    await this.latest(Math.floor(Date.now() / 1_000) + 1);
  }

  async close(): Promise<void> {
    this.http.close();
    this.pageHttp.close();
  }

  /**
   * `latest` for findNewest's windows, asked one after another: where the hosts must
   * be listed (a max-select-series learnt), they are listed once for all of them.
   */
  private latestByWindow(host: string | undefined): (fromSeconds: number) => Promise<Newest[]> {
    let hosts: Promise<string[]> | undefined;
    return (fromSeconds) => this.latest(fromSeconds, host, () => (hosts ??= this.hostNames()));
  }

  /**
   * Each host's newest point (or `host`'s) since `fromSeconds`. A query across more
   * hosts than the server's max-select-series is refused: the limit is learnt from
   * the refusal, and the hosts (`hostNames`) are then asked in groups of that many.
   */
  private async latest(fromSeconds: number, host?: string, hostNames = (): Promise<string[]> => this.hostNames()): Promise<Newest[]> {
    if (host !== undefined || this.maxSelectSeries === undefined) {
      try {
        return await this.newestIn(newestQuery(fromSeconds, host));
      } catch (error) {
        const limit = host === undefined ? refusedLimit(error, 'max-select-series') : undefined;
        if (limit === undefined) throw error;
        this.maxSelectSeries = limit;
      }
    }
    const groupSize = this.maxSelectSeries;
    const hosts = await hostNames();
    const newest: Newest[] = [];
    // One group at a time: thousands of hosts must not become thousands of requests at once.
    for (let start = 0; start < hosts.length; start += groupSize) {
      newest.push(...(await this.newestIn(newestQuery(fromSeconds, hosts.slice(start, start + groupSize)))));
    }
    return newest;
  }

  /** Every host's name, from InfluxDB's list of tag values. */
  private async hostNames(): Promise<string[]> {
    return (await this.select(HOSTS_QUERY)).map(([, name]) => String(name));
  }

  /** The newest point of each series a newestQuery answers. */
  private async newestIn(query: string): Promise<Newest[]> {
    return (await this.query(query)).flatMap((series) => {
      const time = series.values[0]?.[0];
      const tagged = series.tags?.host;
      return tagged !== undefined && typeof time === 'number' ? [{ host: tagged, time }] : [];
    });
  }

  private async findOldest(host: string, toSeconds: number): Promise<number | undefined> {
    const rows = await this.select(oldestQuery(host, toSeconds));
    const time = Number(rows[0]?.[0]);
    return Number.isSafeInteger(time) ? time : undefined;
  }

  /**
   * A large page, streamed: the times of its newest and oldest points are found
   * first (in the same bounded windows as any page), then the points between them
   * are read oldest first in InfluxDB's chunked answers and passed on piece by
   * piece, never all in memory at once. Everything that can fail before the first
   * piece fails here, so the caller can still answer 503.
   */
  private async streamPage(newest: Newest, limit: number, skip: number): Promise<JsonBody> {
    const bounds = await pageInWindows<PageBounds>(newest, { limit, skip }, this.intervalSeconds, {
      page: async (from, to) => {
        const [topAt, bottomAt] = await this.positions(newest.host, from, to, [skip, skip + limit - 1]);
        if (topAt === undefined) return { from, top: undefined, bottom: undefined };
        const [top, bottom] = (await this.queryAll(pageBoundsQuery(newest.host, from, topAt, bottomAt))).map((series) => firstTime(series));
        return { from, top, bottom };
      },
      complete: (bounds) => bounds.bottom !== undefined,
      oldest: (to) => this.findOldest(newest.host, to),
    });
    if (bounds.top === undefined) return '[]';
    const params = new URLSearchParams({
      db: this.config.database,
      epoch: 's',
      chunked: 'true',
      chunk_size: String(STREAM_CHUNK_ROWS),
      q: rangeQuery(newest.host, bounds.bottom ?? bounds.from, bounds.top, limit),
    });
    // Only the wait for the answer's head (and an error's body) is bounded by the
    // store timeout: a page's pieces then come as fast as the client takes them.
    const headTimeout = new AbortController();
    const timer = setTimeout(() => headTimeout.abort(), this.config.timeoutMs);
    let response: IncomingMessage;
    let failure: { status: number; body: string } | undefined;
    try {
      response = await this.pageHttp.open(new URL(`${this.config.url}/query?${params}`), { method: 'GET', headers: this.headers, signal: headTimeout.signal });
      if (response.statusCode !== 200) failure = { status: response.statusCode ?? 0, body: await bodyText(response) };
    } catch (error) {
      throw new StoreUnavailableError(`InfluxDB at ${this.config.url} ${failureReason(error, headTimeout.signal, undefined, this.config.timeoutMs)}`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
    // InfluxDB's own answer, or another service's, told apart as for any request.
    if (failure !== undefined) throw influxAnswerError(failure.status, failure.body);
    return chunkedRowsToJson(response, this.config.timeoutMs);
  }

  /**
   * Where the points at `offsets` from the newest in [fromSeconds, toSeconds] lie.
   * Shallow ones are left to `OFFSET`; for deep ones the points are counted per
   * bucket first, so that `OFFSET` then steps over less than a bucket's points.
   * Undefined for an offset past the window's points.
   */
  private async positions(host: string, fromSeconds: number, toSeconds: number, offsets: readonly number[]): Promise<Array<Position | undefined>> {
    if (offsets.every((offset) => offset < COUNT_FROM_OFFSET)) return offsets.map((offset) => ({ toSeconds, offset }));
    let bucketSeconds = this.countBucketSeconds(fromSeconds, toSeconds);
    let counts: Rows;
    try {
      counts = await this.select(countQuery(host, fromSeconds, toSeconds, bucketSeconds));
    } catch (error) {
      // The server's max-select-buckets, learnt from its refusal: counted again in
      // buckets few enough (each longer, so the page's OFFSET within one is larger).
      const limit = refusedLimit(error, 'max-select-buckets');
      if (limit === undefined || limit === this.maxCountBuckets) throw error;
      this.maxCountBuckets = limit;
      bucketSeconds = this.countBucketSeconds(fromSeconds, toSeconds);
      counts = await this.select(countQuery(host, fromSeconds, toSeconds, bucketSeconds));
    }
    // InfluxDB answers the oldest bucket first, each named by its start.
    const newestFirst = counts.map(bucketCount).reverse();
    return offsets.map((offset) => {
      const at = bucketAt(newestFirst, offset);
      return at && { toSeconds: Math.min(toSeconds, at.bucket + bucketSeconds - 1), offset: at.offset };
    });
  }

  /**
   * The counting buckets' length for a window: BUCKET_INTERVALS intervals, or as
   * many times that as keeps the buckets within the server's max-select-buckets.
   * Buckets are aligned to the epoch, so a window touches one more than its length
   * fills: buckets of length B number at most ceil(window / B) + 1.
   */
  private countBucketSeconds(fromSeconds: number, toSeconds: number): number {
    if (this.maxCountBuckets === undefined) return this.bucketSeconds;
    const windowSeconds = toSeconds - fromSeconds + 1;
    return this.bucketSeconds * Math.max(1, Math.ceil(windowSeconds / (this.bucketSeconds * Math.max(1, this.maxCountBuckets - 1))));
  }

  /** Rows of a single-series query: [time, ...fields]. */
  private async select(text: string): Promise<Rows> {
    const [series] = await this.queryAll(text);
    return series?.[0]?.values ?? [];
  }

  private async query(text: string): Promise<readonly Series[]> {
    const [series] = await this.queryAll(text);
    return series ?? [];
  }

  /** The series of each statement of `text` (statements separated by `;`). */
  private async queryAll(text: string): Promise<ReadonlyArray<readonly Series[]>> {
    const params = new URLSearchParams({ db: this.config.database, epoch: 's', q: text });
    let results = parseResults((await this.request(`/query?${params}`, 'GET')).body, 'a body');
    // Cut short by the server's max-row-limit: asked again in pieces, which it does
    // not limit, rather than answer a page or a count with only its first rows.
    if (results !== undefined && cutShort(results)) {
      params.set('chunked', 'true');
      params.set('chunk_size', String(STREAM_ABOVE_ROWS));
      results = joinChunks((await this.request(`/query?${params}`, 'GET')).body);
    }
    if (results === undefined || results.length === 0) throw new StoreUnavailableError('InfluxDB answered without results');
    return results.map(seriesOf);
  }

  /** A request's answer, which must be a success. */
  private async request(path: string, method: 'GET' | 'POST', body?: string, options?: RequestOptions): Promise<HttpResponse> {
    const response = await this.exchange(path, method, body, options);
    if (isSuccess(response)) return response;
    throw influxAnswerError(response.status, response.body);
  }

  /** A request's answer, whatever its status; no answer at all is STORE_UNAVAILABLE. */
  private async exchange(path: string, method: 'GET' | 'POST', body?: string, options?: RequestOptions): Promise<HttpResponse> {
    const timeout = AbortSignal.timeout(this.config.timeoutMs);
    const signal = options?.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
    const headers = method === 'POST' && path.startsWith('/query') ? { ...this.headers, 'Content-Type': 'application/x-www-form-urlencoded' } : this.headers;
    try {
      return await this.http.send(new URL(`${this.config.url}${path}`), { method, headers, body, signal });
    } catch (error) {
      throw new StoreUnavailableError(`InfluxDB at ${this.config.url} ${failureReason(error, timeout, options?.signal, this.config.timeoutMs)}`, { cause: error });
    }
  }
}

function isSuccess(response: HttpResponse): boolean {
  return response.status >= 200 && response.status < 300;
}

/**
 * Why a request got no answer. A caller's abort (a collector run's deadline or its
 * stop) is not the server's fault and is not called "unreachable": the server may
 * well have taken the connection and been about to answer. Nor is a TLS failure,
 * which only a change of configuration ends.
 */
function failureReason(error: unknown, timeout: AbortSignal, callerSignal: AbortSignal | undefined, timeoutMs: number): string {
  // Not InfluxDB's slowness, then, but this process's own requests to it.
  const waited = error instanceof NoFreeConnectionError ? `: ${error.message}` : '';
  if (timeout.aborted) return `no answer within ${timeoutMs} ms (STORE_TIMEOUT)${waited}`;
  if (callerSignal?.aborted) return `no answer before its caller stopped waiting${waited}`;
  return tlsFailure(error) ?? 'unreachable';
}

function bucketCount(row: ReadonlyArray<unknown>): BucketCount<number> {
  const [start, points] = row;
  if (typeof start !== 'number' || typeof points !== 'number') {
    throw new StoreUnavailableError(`InfluxDB answered a count that is not two numbers: ${JSON.stringify(row)}`);
  }
  return [start, points];
}

function firstTime(series: readonly Series[]): number | undefined {
  const time = series[0]?.values[0]?.[0];
  return typeof time === 'number' ? time : undefined;
}

function authorization(config: InfluxStoreConfig): Record<string, string> {
  if (config.token !== undefined) return { Authorization: `Token ${config.token}` };
  if (config.username !== undefined && config.password !== undefined) {
    return { Authorization: `Basic ${Buffer.from(`${config.username}:${config.password}`).toString('base64')}` };
  }
  return {};
}

/**
 * The lines of an answer, read only as fast as they are taken: a slow client slows
 * InfluxDB's answer down instead of it piling up here. (readline's iterator pauses
 * its input only after 1,024 waiting lines; at 250 rows a line, that is a whole
 * page held in memory for a slow client.) Each wait for InfluxDB's next piece is
 * bounded by `timeoutMs`: an InfluxDB stalled mid-answer (stopped, or its network
 * gone without a reset) held the page, and its client, open for as long as it
 * stalled. A slow client is not bound by it: the wait begins when a piece is asked for.
 */
async function* linesOf(response: IncomingMessage, timeoutMs: number): AsyncGenerator<string> {
  const chunks = (response.setEncoding('utf8') as AsyncIterable<string>)[Symbol.asyncIterator]();
  const stalled = (): void => {
    response.destroy(new StoreUnavailableError(`InfluxDB sent nothing more of a page for ${timeoutMs} ms (STORE_TIMEOUT)`));
  };
  let rest = '';
  for (;;) {
    const timer = setTimeout(stalled, timeoutMs);
    const next = await chunks.next().finally(() => clearTimeout(timer));
    if (next.done === true) break;
    const lines = (rest + next.value).split('\n');
    rest = lines.pop()!;
    yield* lines;
  }
  if (rest !== '') yield rest;
}

/** InfluxDB's chunked answer (one JSON document a line), rows oldest first, as body pieces. */
async function* chunkedRowsToJson(response: IncomingMessage, timeoutMs: number): AsyncGenerator<string> {
  let separator = '[';
  try {
    for await (const line of linesOf(response, timeoutMs)) {
      const records = line === '' ? '' : chunkRecords(line);
      if (records === '') continue;
      yield separator + records;
      separator = ',';
    }
  } catch (error) {
    // The connection's own failure (InfluxDB stopping: `aborted`) as the store's, as for any request.
    throw error instanceof AppError ? error : new StoreUnavailableError(`InfluxDB's answer broke off (${(error as Error).message})`, { cause: error });
  } finally {
    response.destroy();
  }
  yield separator === '[' ? '[]' : ']';
}
