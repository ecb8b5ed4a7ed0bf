import { HttpError, InfluxDB, Point, setLogger, type QueryApi } from '@influxdata/influxdb-client';
import { StoreRefusedError, StoreUnavailableError, type AppError } from '../errors.js';
import type { InfluxV2StoreConfig } from '../config.js';
import { bucketFlux, newestFlux, oldestFlux, pageFlux, recordFromRow, timeFromRow } from './flux.js';
import { influxAnswerError, NOT_VISIBLE_HINT, pointsBeyondRetention } from './influx-errors.js';
import { tlsFailure } from './http.js';
import { MEASUREMENT } from './influxql.js';
import { assertValidPoints } from './point.js';
import { ALL_STORED, type HostSummary, type ListQuery, type MemoryPoint, type MemoryRecord, type MemoryStore, type WriteReceipt } from './types.js';
import { findNewest, hostsByNewest, NewestCache, pageInWindows, readUpperSeconds, type Newest } from './window.js';

// The client writes each failed write to the console: several lines of plain text on
// stderr at every collector run while InfluxDB is down, among the JSON log lines.
// Every failure reaches this store as an error, which the collector logs once per
// change of state (and the API answers 503): the client's own log is dropped.
setLogger({ error: () => undefined, warn: () => undefined });

/**
 * InfluxDB 2.x natively (`INFLUX_API=v2`): writes through the client's WriteApi to
 * a bucket, reads through its QueryApi in Flux. Same data model, same bounded
 * windows and the same JSON as the InfluxQL path.
 */
export class InfluxV2Store implements MemoryStore {
  private readonly client: InfluxDB;
  private readonly queries: QueryApi;
  private readonly intervalSeconds: number;
  private readonly newest = new NewestCache();

  constructor(private readonly config: InfluxV2StoreConfig) {
    this.client = new InfluxDB({ url: config.url, token: config.token, timeout: config.timeoutMs });
    this.queries = this.client.getQueryApi(config.org);
    this.intervalSeconds = Math.max(1, Math.round(config.collectIntervalMs / 1_000));
  }

  async write(points: readonly MemoryPoint[]): Promise<WriteReceipt> {
    if (points.length === 0) return ALL_STORED;
    assertValidPoints(points);
    // A WriteApi per call, flushed and closed before returning, never retrying on
    // its own: the client's buffer is never the only copy of a point (the
    // collector's spool is).
    const writer = this.client.getWriteApi(this.config.org, this.config.bucket, 's', {
      batchSize: points.length + 1,
      flushInterval: 0,
      maxRetries: 0,
      maxBufferLines: points.length + 1,
    });
    writer.writePoints(
      points.map((point) =>
        new Point(MEASUREMENT).tag('host', point.host).intField('total', point.total).intField('free', point.free).intField('used', point.used).timestamp(point.timestamp),
      ),
    );
    try {
      await writer.close();
      return ALL_STORED;
    } catch (error) {
      // Stored but for the points its retention drops: see InfluxStore's writeLines.
      const beyondRetention = error instanceof HttpError ? pointsBeyondRetention(error.body ?? '') : undefined;
      if (beyondRetention === undefined) throw this.translated(error);
      return { beyondRetention };
    } finally {
      this.newest.clear();
    }
  }

  async listJson({ host, limit, skip }: ListQuery): Promise<string> {
    const newest = await this.newest.get(host, () => findNewest((from) => this.latest(from, host)));
    if (newest === undefined) return '[]';
    const records = await pageInWindows<Array<MemoryRecord | undefined>>(newest, { limit, skip }, this.intervalSeconds, {
      page: (from, to) => this.translate(() => this.queries.collectRows(pageFlux(this.config.bucket, newest.host, from, to, limit, skip), recordFromRow)),
      complete: (rows) => rows.length >= limit,
      oldest: async (to) => (await this.translate(() => this.queries.collectRows(oldestFlux(this.config.bucket, newest.host, to), timeFromRow)))[0]?.time,
    });
    if (records.some((record) => record === undefined)) throw new StoreUnavailableError('InfluxDB answered a row that is not four whole numbers');
    return JSON.stringify(records);
  }

  async listHosts(): Promise<HostSummary[]> {
    return hostsByNewest(await this.latest(0));
  }

  async health(): Promise<void> {
    const buckets = await this.translate(() => this.queries.collectRows(bucketFlux(this.config.bucket)));
    if (buckets.length === 0) throw new StoreRefusedError(`InfluxDB has no bucket "${this.config.bucket}" (${NOT_VISIBLE_HINT})`);
  }

  async close(): Promise<void> {
    // The client holds no connection of its own between requests.
  }

  /** Each host's newest point (or `host`'s) since `fromSeconds`. */
  private latest(fromSeconds: number, host?: string): Promise<Newest[]> {
    return this.translate(() => this.queries.collectRows(newestFlux(this.config.bucket, fromSeconds, readUpperSeconds(), host), timeFromRow));
  }

  /** The client's failures as the store's typed errors: InfluxDB's answers as in influx-errors.ts; the network's pass. */
  private async translate<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw this.translated(error);
    }
  }

  /** One failure of the client's as a typed error; a TLS failure named as such, not as the server being away. */
  private translated(error: unknown): AppError {
    if (error instanceof HttpError) return influxAnswerError(error.statusCode, error.body ?? '', { cause: error });
    const tls = tlsFailure(error);
    if (tls !== undefined) return new StoreUnavailableError(`InfluxDB at ${this.config.url} ${tls}`, { cause: error });
    return new StoreUnavailableError(`InfluxDB unavailable: ${(error as Error).message}`, { cause: error });
  }
}
