import { flux, type FluxTableMetaData, type ParameterizedQuery } from '@influxdata/influxdb-client';
import { MEASUREMENT } from './influxql.js';
import type { MemoryRecord } from './types.js';

/**
 * The Flux queries of the InfluxDB 2.x path, the same data model as the InfluxQL
 * one. Every value a user supplies (host, bucket) goes in through the client's
 * `flux` template, which quotes and escapes it: never by string concatenation.
 * Pure: no I/O.
 */
const at = (seconds: number): Date => new Date(seconds * 1_000);

/**
 * The newest `used` of each host (or of `host`) in [fromSeconds, toSeconds]. With an
 * explicit end: Flux's default one is the server's now, which hides the newest points
 * of a collector whose clock runs ahead of the server's.
 */
export function newestFlux(bucket: string, fromSeconds: number, toSeconds: number, host?: string): ParameterizedQuery {
  return host === undefined
    ? flux`from(bucket: ${bucket})
  |> range(start: ${at(fromSeconds)}, stop: ${at(toSeconds + 1)})
  |> filter(fn: (r) => r._measurement == ${MEASUREMENT} and r._field == "used")
  |> group(columns: ["host"])
  |> last()`
    : flux`from(bucket: ${bucket})
  |> range(start: ${at(fromSeconds)}, stop: ${at(toSeconds + 1)})
  |> filter(fn: (r) => r._measurement == ${MEASUREMENT} and r._field == "used" and r.host == ${host})
  |> group(columns: ["host"])
  |> last()`;
}

/** The oldest `used` of `host` up to `toSeconds`. */
export function oldestFlux(bucket: string, host: string, toSeconds: number): ParameterizedQuery {
  return flux`from(bucket: ${bucket})
  |> range(start: ${at(0)}, stop: ${at(toSeconds + 1)})
  |> filter(fn: (r) => r._measurement == ${MEASUREMENT} and r._field == "used" and r.host == ${host})
  |> first()`;
}

/**
 * One page in [fromSeconds, toSeconds]: fields pivoted into columns, newest first
 * through limit and offset, then oldest first, as the API serves it.
 */
export function pageFlux(bucket: string, host: string, fromSeconds: number, toSeconds: number, limit: number, skip: number): ParameterizedQuery {
  return flux`from(bucket: ${bucket})
  |> range(start: ${at(fromSeconds)}, stop: ${at(toSeconds + 1)})
  |> filter(fn: (r) => r._measurement == ${MEASUREMENT} and r.host == ${host})
  |> filter(fn: (r) => r._field == "total" or r._field == "free" or r._field == "used")
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> group()
  |> sort(columns: ["_time"], desc: true)
  |> limit(n: ${limit}, offset: ${skip})
  |> sort(columns: ["_time"])
  |> keep(columns: ["_time", "total", "free", "used"])`;
}

/** Whether the bucket exists: the health check. */
export function bucketFlux(bucket: string): ParameterizedQuery {
  return flux`buckets() |> filter(fn: (r) => r.name == ${bucket}) |> limit(n: 1)`;
}

/** A row of pageFlux's table as a record; undefined when a value is not a whole number. */
export function recordFromRow(values: string[], table: FluxTableMetaData): MemoryRecord | undefined {
  // The client turns a `long` cell into a number and an empty one into null.
  const whole = (column: string): number | undefined => {
    const value: unknown = table.get(values, column);
    return typeof value === 'number' && Number.isSafeInteger(value) ? value : undefined;
  };
  const time = Date.parse(String(table.get(values, '_time')));
  const [total, free, used] = [whole('total'), whole('free'), whole('used')];
  if (Number.isNaN(time) || total === undefined || free === undefined || used === undefined) return undefined;
  return { timestamp: Math.floor(time / 1_000), total, free, used };
}

/** A row of newestFlux's or oldestFlux's table: the host and the point's time. */
export function timeFromRow(values: string[], table: FluxTableMetaData): { host: string; time: number } {
  return { host: String(table.get(values, 'host') ?? ''), time: Math.floor(Date.parse(String(table.get(values, '_time'))) / 1_000) };
}
