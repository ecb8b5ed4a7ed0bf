import { InvalidPointError } from '../errors.js';
import type { MemoryPoint } from './types.js';

const MAX_HOST_LENGTH = 255;
/**
 * The last second InfluxDB can hold (2262-04-11T23:47:16Z: its times are signed
 * 64-bit nanoseconds). SQLite could hold later ones; the data model is the same on
 * every store, so that a history moves between them whole.
 */
export const MAX_TIMESTAMP = 9_223_372_036;
// Control characters break line protocol and logs; a backslash has no place in a
// hostname and would need a second escaping scheme in InfluxQL.
const FORBIDDEN_HOST_CHARACTERS = /[\u0000-\u001f\u007f\\]/;

/** Why `host` cannot be stored, or undefined when it can. */
export function hostProblem(host: string): string | undefined {
  if (host.length === 0) return 'host is empty';
  if (host.length > MAX_HOST_LENGTH) return `host is longer than ${MAX_HOST_LENGTH} characters`;
  if (FORBIDDEN_HOST_CHARACTERS.test(host)) return 'host contains a control character or a backslash';
  return undefined;
}

/** Why `point` cannot be stored, or undefined when it can. */
export function pointProblem(point: MemoryPoint): string | undefined {
  const host = hostProblem(point.host);
  if (host) return host;
  if (!Number.isSafeInteger(point.timestamp) || point.timestamp < 0 || point.timestamp > MAX_TIMESTAMP) {
    return 'timestamp must be a whole number of seconds, from 1970 to 2262-04-11T23:47:16Z';
  }
  for (const field of ['total', 'free', 'used'] as const) {
    const value = point[field];
    if (!Number.isSafeInteger(value) || value < 0) return `${field} must be a whole, non-negative number of MiB`;
  }
  return undefined;
}

export function assertValidPoints(points: readonly MemoryPoint[]): void {
  for (const point of points) {
    const problem = pointProblem(point);
    if (problem) throw new InvalidPointError(`${problem}: ${JSON.stringify(point)}`);
  }
}
