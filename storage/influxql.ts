import type { MemoryPoint } from './types.js';

/**
 * The InfluxDB data model, fixed and documented in the README: measurement
 * `memory`, tag `host`, integer fields `total`, `free`, `used` (MiB), timestamps
 * in whole seconds. Pure text builders: no I/O.
 */
export const MEASUREMENT = 'memory';

/** One line of line protocol (`precision=s`). */
export function toLine(point: MemoryPoint): string {
  return `${MEASUREMENT},host=${escapeTag(point.host)} total=${point.total}i,free=${point.free}i,used=${point.used}i ${point.timestamp}`;
}

/** Tag values escape commas, equals signs and spaces; hosts hold no backslash or newline. */
function escapeTag(value: string): string {
  return value.replace(/[,= ]/g, (character) => `\\${character}`);
}

/** An InfluxQL string literal. */
export function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

const hostFilter = (host: string | undefined): string => (host === undefined ? '' : ` AND "host" = ${quote(host)}`);

/** Each of `hosts`: a list rather than a regular expression, which would have to escape them. */
const hostsFilter = (hosts: readonly string[]): string => ` AND (${hosts.map((host) => `"host" = ${quote(host)}`).join(' OR ')})`;

/** The newest point of each host (or of `host`, or of each of `hosts`) at or after `fromSeconds`. */
export function newestQuery(fromSeconds: number, host?: string | readonly string[]): string {
  const filter = typeof host === 'object' ? hostsFilter(host) : hostFilter(host);
  return `SELECT last("used") FROM "${MEASUREMENT}" WHERE time >= ${fromSeconds}s${filter} GROUP BY "host"`;
}

/** Every host with points, as one series of ["host", host] rows: a list of names InfluxDB keeps apart from the points, so it scans none. */
export const HOSTS_QUERY = `SHOW TAG VALUES FROM "${MEASUREMENT}" WITH KEY = "host"`;

/** The oldest point of `host` at or before `toSeconds`. */
export function oldestQuery(host: string, toSeconds: number): string {
  return `SELECT first("used") FROM "${MEASUREMENT}" WHERE time >= 0s AND time <= ${toSeconds}s${hostFilter(host)}`;
}

/** One page, newest first, inside the closed window [fromSeconds, toSeconds]. */
export function pageQuery(host: string, fromSeconds: number, toSeconds: number, limit: number, skip: number): string {
  return (
    `SELECT "total", "free", "used" FROM "${MEASUREMENT}" WHERE time >= ${fromSeconds}s AND time <= ${toSeconds}s${hostFilter(host)}` +
    ` ORDER BY time DESC LIMIT ${limit} OFFSET ${skip}`
  );
}

/** Where a point lies: the `offset`-th point from the newest at or before `toSeconds`. */
export interface Position {
  readonly toSeconds: number;
  readonly offset: number;
}

/**
 * The times of the points at two positions (a streamed page's newest and oldest),
 * both at or after `fromSeconds`: two statements, one request. Without `bottom`,
 * only the first.
 */
export function pageBoundsQuery(host: string, fromSeconds: number, top: Position, bottom?: Position): string {
  const at = ({ toSeconds, offset }: Position): string =>
    `SELECT "used" FROM "${MEASUREMENT}" WHERE time >= ${fromSeconds}s AND time <= ${toSeconds}s${hostFilter(host)} ORDER BY time DESC LIMIT 1 OFFSET ${offset}`;
  return bottom === undefined ? at(top) : `${at(top)}; ${at(bottom)}`;
}

/** Points of `host` in [fromSeconds, toSeconds] per bucket of `bucketSeconds`, oldest bucket first, empty ones left out. */
export function countQuery(host: string, fromSeconds: number, toSeconds: number, bucketSeconds: number): string {
  return (
    `SELECT count("used") FROM "${MEASUREMENT}" WHERE time >= ${fromSeconds}s AND time <= ${toSeconds}s${hostFilter(host)}` +
    ` GROUP BY time(${bucketSeconds}s) fill(none)`
  );
}

/** Up to `limit` points in [fromSeconds, toSeconds], oldest first. */
export function rangeQuery(host: string, fromSeconds: number, toSeconds: number, limit: number): string {
  return `SELECT "total", "free", "used" FROM "${MEASUREMENT}" WHERE time >= ${fromSeconds}s AND time <= ${toSeconds}s${hostFilter(host)} ORDER BY time ASC LIMIT ${limit}`;
}
