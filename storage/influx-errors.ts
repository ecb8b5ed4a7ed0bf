import { StoreRefusedError, StoreRequestError, StoreUnavailableError, type AppError } from '../errors.js';

/** InfluxDB's answers to credentials it does not know, or to a user without the rights. */
const REFUSALS: ReadonlySet<number> = new Set([401, 403]);

/**
 * The typed error for an InfluxDB answer that is not a success, whichever API gave
 * it: 5xx and 429 pass by themselves; a refusal lasts until an operator fixes the
 * credentials or the rights; any other 4xx (a bad request, a missing database)
 * will not pass.
 */
export function influxAnswerError(status: number, detail: string, options?: { cause?: unknown }): AppError {
  const message = `InfluxDB answered ${status}: ${detail}`;
  if (status >= 500 || status === 429) return new StoreUnavailableError(message, options);
  if (REFUSALS.has(status)) {
    return new StoreRefusedError(`${message} (check INFLUX_TOKEN, or INFLUX_USERNAME and INFLUX_PASSWORD, and the rights they carry)`, options);
  }
  return new StoreRequestError(message, options);
}
