import { StoreRefusedError, StoreRequestError, StoreUnavailableError, type AppError } from '../errors.js';

/** InfluxDB's answers to credentials it does not know, or to a user without the rights. */
const REFUSALS: ReadonlySet<number> = new Set([401, 403]);

/**
 * The typed error for an InfluxDB answer that is not a success, whichever API gave
 * it: 5xx and 429 pass by themselves; a refusal lasts until an operator fixes the
 * credentials or the rights; any other 4xx of InfluxDB's (a bad request) will not
 * pass. A 4xx that is not InfluxDB's (`INFLUX_URL` naming another service or path:
 * a 404 page) is the store not being there, as a closed port is.
 */
export function influxAnswerError(status: number, body: string, options?: { cause?: unknown }): AppError {
  const answer = influxErrorAnswer(body);
  const message = `InfluxDB answered ${status}: ${answer?.text ?? body.slice(0, 200)}`;
  if (status >= 500 || status === 429) return new StoreUnavailableError(message, options);
  if (REFUSALS.has(status)) {
    return new StoreRefusedError(`${message} (check INFLUX_TOKEN, or INFLUX_USERNAME and INFLUX_PASSWORD, and the rights they carry)`, options);
  }
  if (answer === undefined) {
    return new StoreUnavailableError(`INFLUX_URL answered ${status}, and not as InfluxDB does (${JSON.stringify(body.slice(0, 200))}): ${CHECK_INFLUX_URL}, and any proxy in front of it`, options);
  }
  // InfluxDB 2.x does not tell a bucket or organization that is missing from one the
  // token may not use: both are this 404. (1.x's "database not found" has no code.)
  if (status === 404 && answer.code === 'not found') {
    return new StoreRefusedError(`${message} (${NOT_VISIBLE_HINT})`, options);
  }
  return new StoreRequestError(message, options);
}

/**
 * InfluxDB's own words for a write whose points it stored but for `dropped=N`
 * older than its retention policy keeps: 1.x answers 400 with them, 2.x 422 (500
 * before 2.1), after a prefix of its own. InfluxDB gives this answer only when every
 * other point of the write was stored (a field type conflict in the same write
 * answers that instead).
 */
const BEYOND_RETENTION = /(?:^|: )partial write: points beyond retention policy dropped=(\d+)$/;

/**
 * How many points a write's answer says InfluxDB dropped as older than its
 * retention policy, the rest having been stored; undefined for any other answer.
 */
export function pointsBeyondRetention(body: string): number | undefined {
  const dropped = BEYOND_RETENTION.exec(influxErrorAnswer(body)?.text ?? '')?.[1];
  return dropped === undefined ? undefined : Number(dropped);
}

/** What to check when something other than InfluxDB answers. */
export const CHECK_INFLUX_URL = "check that it is InfluxDB's address";

/** What to check when InfluxDB 2.x does not find a bucket or organization. */
export const NOT_VISIBLE_HINT = "to InfluxDB 2.x, a bucket or organization that does not exist and one the token may not use look the same: check their names and INFLUX_TOKEN's rights";

/** InfluxDB's reason (and 2.x's code) in an error answer's body: JSON with `error` (1.x, 3.x) or `code` and `message` (2.x). */
function influxErrorAnswer(body: string): { text: string; code: unknown } | undefined {
  try {
    const parsed = JSON.parse(body) as { error?: unknown; message?: unknown; code?: unknown } | null;
    const text = parsed?.error ?? parsed?.message;
    return typeof text === 'string' ? { text, code: parsed?.code } : undefined;
  } catch {
    return undefined;
  }
}
