import { StoreRequestError, StoreUnavailableError } from '../errors.js';
import type { InfluxStoreConfig } from '../config.js';
import { newestQuery, oldestQuery, pageQuery, toLine } from './influxql.js';
import { HttpClient, type HttpResponse } from './http.js';
import { assertValidPoints } from './point.js';
import type { HostSummary, ListQuery, MemoryPoint, MemoryStore, RequestOptions } from './types.js';
import { NEWEST_LOOKBACK_SECONDS, NewestCache, pageInWindows, type Newest } from './window.js';

interface Series {
  readonly tags?: Readonly<Record<string, string>>;
  readonly columns: readonly string[];
  readonly values: ReadonlyArray<ReadonlyArray<unknown>>;
}

interface StatementResult {
  readonly error?: string;
  readonly series?: readonly Series[];
}

/**
 * InfluxDB over its HTTP API: line protocol to `/write`, InfluxQL from `/query`.
 * That one dialect is served by InfluxDB 1.x, 2.x (v1 compatibility API) and 3.x.
 * The only file that speaks InfluxDB's HTTP API. Every read carries a bounded time
 * range: InfluxDB 3 refuses unbounded scans and 1.x prunes shards by time.
 */
export class InfluxStore implements MemoryStore {
  private readonly headers: Record<string, string>;
  private readonly intervalSeconds: number;
  private readonly http = new HttpClient();
  private readonly newest = new NewestCache();

  constructor(private readonly config: InfluxStoreConfig) {
    this.headers = authorization(config);
    this.intervalSeconds = Math.max(1, Math.round(config.collectIntervalMs / 1_000));
  }

  /** Creates the database where the server allows it (1.x); elsewhere a no-op. */
  async ensureDatabase(options?: RequestOptions): Promise<void> {
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

  async write(points: readonly MemoryPoint[], options?: RequestOptions): Promise<void> {
    if (points.length === 0) return;
    assertValidPoints(points);
    const body = points.map(toLine).join('\n');
    this.newest.clear();
    const params = new URLSearchParams({ db: this.config.database, precision: 's' });
    try {
      await this.request(`/write?${params}`, 'POST', body, options);
    } catch (error) {
      if (!(error instanceof StoreRequestError && /database not found/i.test(error.message))) throw error;
      await this.ensureDatabase(options);
      await this.request(`/write?${params}`, 'POST', body, options);
    }
  }

  async listJson({ host, limit, skip }: ListQuery): Promise<string> {
    const newest = await this.newest.get(host, () => this.findNewest(host));
    if (newest === undefined) return '[]';
    const rows = await pageInWindows<ReadonlyArray<unknown>>(newest, { limit, skip }, this.intervalSeconds, {
      page: (from, to) => this.select(pageQuery(newest.host, from, to, limit, skip)),
      oldest: (to) => this.findOldest(newest.host, to),
    });
    return rowsToJson(rows);
  }

  async listHosts(): Promise<HostSummary[]> {
    const series = await this.query(newestQuery(0));
    return series
      .map((one) => ({ host: one.tags?.host ?? '', latestTimestamp: Number(one.values[0]?.[0]) }))
      .filter((summary) => summary.host !== '' && Number.isSafeInteger(summary.latestTimestamp))
      .sort((a, b) => b.latestTimestamp - a.latestTimestamp || (a.host < b.host ? -1 : 1));
  }

  async health(): Promise<void> {
    await this.request('/ping', 'GET');
  }

  async close(): Promise<void> {
    this.http.close();
  }

  /** The newest point (of `host`, or of any host), looking back in growing windows. */
  private async findNewest(host: string | undefined): Promise<Newest | undefined> {
    const now = Math.floor(Date.now() / 1_000);
    for (const from of [...NEWEST_LOOKBACK_SECONDS.map((seconds) => now - seconds), 0]) {
      let newest: Newest | undefined;
      for (const one of await this.query(newestQuery(Math.max(0, from), host))) {
        const time = Number(one.values[0]?.[0]);
        const tagged = one.tags?.host;
        if (tagged === undefined || !Number.isSafeInteger(time)) continue;
        if (newest === undefined || time > newest.time || (time === newest.time && tagged < newest.host)) {
          newest = { host: tagged, time };
        }
      }
      if (newest !== undefined) return newest;
    }
    return undefined;
  }

  private async findOldest(host: string, toSeconds: number): Promise<number | undefined> {
    const rows = await this.select(oldestQuery(host, toSeconds));
    const time = Number(rows[0]?.[0]);
    return Number.isSafeInteger(time) ? time : undefined;
  }

  /** Rows of a single-series query: [time, ...fields]. */
  private async select(text: string): Promise<ReadonlyArray<ReadonlyArray<unknown>>> {
    const series = await this.query(text);
    return series[0]?.values ?? [];
  }

  private async query(text: string): Promise<readonly Series[]> {
    const params = new URLSearchParams({ db: this.config.database, epoch: 's', q: text });
    const response = await this.request(`/query?${params}`, 'GET');
    let result: StatementResult | undefined;
    try {
      result = (JSON.parse(response.body) as { results?: StatementResult[] }).results?.[0];
    } catch (error) {
      throw new StoreUnavailableError('InfluxDB answered with a body that is not JSON', { cause: error });
    }
    if (result === undefined) throw new StoreUnavailableError('InfluxDB answered without results');
    if (result.error !== undefined) {
      // A database that does not exist yet simply holds no points.
      if (/database not found/i.test(result.error)) return [];
      throw new StoreRequestError(`InfluxDB refused the query: ${result.error}`);
    }
    return result.series ?? [];
  }

  private async request(path: string, method: 'GET' | 'POST', body?: string, options?: RequestOptions): Promise<HttpResponse> {
    const timeout = AbortSignal.timeout(this.config.timeoutMs);
    const signal = options?.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
    const headers = method === 'POST' && path.startsWith('/query') ? { ...this.headers, 'Content-Type': 'application/x-www-form-urlencoded' } : this.headers;
    let response: HttpResponse;
    try {
      response = await this.http.send(new URL(`${this.config.url}${path}`), { method, headers, body, signal });
    } catch (error) {
      const reason = timeout.aborted ? `no answer within ${this.config.timeoutMs} ms` : 'unreachable';
      throw new StoreUnavailableError(`InfluxDB at ${this.config.url} ${reason}`, { cause: error });
    }
    if (response.status >= 200 && response.status < 300) return response;
    const message = `InfluxDB answered ${response.status}: ${errorDetail(response.body)}`;
    // 5xx and 429 pass; 4xx (bad request, auth, missing database) will not.
    if (response.status >= 500 || response.status === 429) throw new StoreUnavailableError(message);
    throw new StoreRequestError(message);
  }
}

function authorization(config: InfluxStoreConfig): Record<string, string> {
  if (config.token !== undefined) return { Authorization: `Token ${config.token}` };
  if (config.username !== undefined && config.password !== undefined) {
    return { Authorization: `Basic ${Buffer.from(`${config.username}:${config.password}`).toString('base64')}` };
  }
  return {};
}

function errorDetail(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown; message?: unknown };
    return String(parsed.error ?? parsed.message ?? body);
  } catch {
    return body.slice(0, 200);
  }
}

/**
 * [time, total, free, used] rows, newest first, to the API's JSON body, oldest
 * first. Anything but numbers means the server answered garbage.
 */
function rowsToJson(rows: ReadonlyArray<ReadonlyArray<unknown>>): string {
  let json = '[';
  for (let i = rows.length - 1; i >= 0; i--) {
    const [timestamp, total, free, used] = rows[i]!;
    if (typeof timestamp !== 'number' || typeof total !== 'number' || typeof free !== 'number' || typeof used !== 'number') {
      throw new StoreUnavailableError(`InfluxDB answered a row that is not four numbers: ${JSON.stringify(rows[i])}`);
    }
    json += `${i === rows.length - 1 ? '' : ','}{"timestamp":${timestamp},"total":${total},"free":${free},"used":${used}}`;
  }
  return `${json}]`;
}
