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

/** The newest point of each host (or of `host`) at or after `fromSeconds`. */
export function newestQuery(fromSeconds: number, host?: string): string {
  return `SELECT last("used") FROM "${MEASUREMENT}" WHERE time >= ${fromSeconds}s${hostFilter(host)} GROUP BY "host"`;
}

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

/**
 * The times of the page's newest and oldest points within the window: the points at
 * `skip` and at `skip + limit - 1` from the newest. Two statements, one request.
 */
export function pageBoundsQuery(host: string, fromSeconds: number, toSeconds: number, limit: number, skip: number): string {
  const at = (offset: number): string =>
    `SELECT "used" FROM "${MEASUREMENT}" WHERE time >= ${fromSeconds}s AND time <= ${toSeconds}s${hostFilter(host)} ORDER BY time DESC LIMIT 1 OFFSET ${offset}`;
  return `${at(skip)}; ${at(skip + limit - 1)}`;
}

/** Up to `limit` points in [fromSeconds, toSeconds], oldest first. */
export function rangeQuery(host: string, fromSeconds: number, toSeconds: number, limit: number): string {
  return `SELECT "total", "free", "used" FROM "${MEASUREMENT}" WHERE time >= ${fromSeconds}s AND time <= ${toSeconds}s${hostFilter(host)} ORDER BY time ASC LIMIT ${limit}`;
}
