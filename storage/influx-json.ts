import { StoreRequestError, StoreUnavailableError } from '../errors.js';

/** InfluxDB's JSON answers to `/query` (epoch=s), and their rows as the API's body. */

export interface Series {
  readonly name?: string;
  readonly tags?: Readonly<Record<string, string>>;
  readonly columns: readonly string[];
  readonly values: ReadonlyArray<ReadonlyArray<unknown>>;
  /** Cut short: at `max-row-limit` in a whole answer, or to go on in the next piece of a chunked one. */
  readonly partial?: boolean;
}

export interface StatementResult {
  readonly statement_id?: number;
  readonly error?: string;
  readonly series?: readonly Series[];
  readonly partial?: boolean;
}

export type Rows = ReadonlyArray<ReadonlyArray<unknown>>;

/**
 * Statement errors of a busy or slow InfluxDB rather than of the query: its own
 * `query-timeout` and `max-concurrent-queries` limits, and a query killed or cut
 * by a restart. The next request may pass, so they are the store's unavailability
 * (503), as the API's own timeout is.
 */
const PASSING_STATEMENT_ERRORS = /^(query-timeout limit exceeded|max-concurrent-queries limit exceeded|query interrupted)/;

/** The prefix of a statement's error, as seriesOf words it. */
const REFUSED = 'InfluxDB refused the query: ';

/** The `[coordinator]` limits a query that exceeds them is refused for, naming the limit. */
export type QueryLimit = 'max-select-buckets' | 'max-select-series';

/**
 * The server's `setting` (`[coordinator]`), when `error` is seriesOf's error for
 * its refusal of a query that exceeds that limit: `<setting> limit exceeded: (N/limit)`.
 */
export function refusedLimit(error: unknown, setting: QueryLimit): number | undefined {
  if (!(error instanceof StoreRequestError) || !error.message.startsWith(REFUSED)) return undefined;
  const refusal = /^(max-select-[a-z]+) limit exceeded: \(\d+\/(\d+)\)$/.exec(error.message.slice(REFUSED.length));
  return refusal?.[1] === setting ? Number(refusal[2]) : undefined;
}

/** The series of one statement's result; a statement InfluxDB refused throws. */
export function seriesOf(result: StatementResult): readonly Series[] {
  if (result.error !== undefined) {
    // A database that does not exist yet simply holds no points.
    if (/database not found/i.test(result.error)) return [];
    if (PASSING_STATEMENT_ERRORS.test(result.error)) throw new StoreUnavailableError(`InfluxDB gave up the query: ${result.error}`);
    throw new StoreRequestError(`${REFUSED}${result.error}`);
  }
  return result.series ?? [];
}

/** The statements' results of one JSON document. */
export function parseResults(text: string, what: string): StatementResult[] | undefined {
  try {
    return (JSON.parse(text) as { results?: StatementResult[] }).results;
  } catch (error) {
    throw new StoreUnavailableError(`InfluxDB answered ${what} that is not JSON`, { cause: error });
  }
}

/**
 * True when InfluxDB cut a whole (not chunked) answer short: past the `max-row-limit`
 * of its `[http]` configuration (0, no limit, by default) it answers only the first
 * rows, marked partial. Its chunked answers have no such limit.
 */
export function cutShort(results: readonly StatementResult[]): boolean {
  return results.some((result) => result.partial === true || (result.series ?? []).some((series) => series.partial === true));
}

/**
 * The statements' results of a chunked answer (one JSON document a line), as one
 * whole answer would give them: each statement's pieces joined by its id, and a
 * series that a piece marks partial going on in the next with the same name and tags.
 */
export function joinChunks(text: string): StatementResult[] {
  const statements = new Map<number, { error?: string; series: Series[] }>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    (parseResults(line, 'a piece') ?? []).forEach((result, index) => {
      const id = result.statement_id ?? index;
      const joined = statements.get(id) ?? { series: [] };
      statements.set(id, joined);
      if (result.error !== undefined) joined.error = result.error;
      for (const series of result.series ?? []) {
        const last = joined.series.at(-1);
        if (last?.partial === true && last.name === series.name && JSON.stringify(last.tags) === JSON.stringify(series.tags)) {
          joined.series[joined.series.length - 1] = { ...series, values: [...last.values, ...series.values] };
        } else {
          joined.series.push(series);
        }
      }
    });
  }
  return [...statements.values()].map(({ error, series }) => (error === undefined ? { series } : { error, series }));
}

/** [time, total, free, used] rows, newest first, to the API's JSON body, oldest first. */
export function rowsToJson(rows: Rows): string {
  const records: string[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) records[rows.length - 1 - i] = recordJson(rows[i]!);
  return `[${records.join(',')}]`;
}

/** One record of the body. Anything but four numbers means the server answered garbage. */
function recordJson(row: ReadonlyArray<unknown>): string {
  const [timestamp, total, free, used] = row;
  if (row.length !== 4 || typeof timestamp !== 'number' || typeof total !== 'number' || typeof free !== 'number' || typeof used !== 'number') {
    throw new StoreUnavailableError(`InfluxDB answered a row that is not four numbers: ${JSON.stringify(row)}`);
  }
  return `{"timestamp":${timestamp},"total":${total},"free":${free},"used":${used}}`;
}

const VALUES_KEY = '"values":[';
const INTEGER = '-?(?:0|[1-9][0-9]*)';
const ROW = `\\[${INTEGER},${INTEGER},${INTEGER},${INTEGER}\\]`;
/** A values array's inside that holds only rows of four integers, comma-separated. */
const INTEGER_ROWS = new RegExp(`^(?:${ROW}(?:,(?!$)|$))*$`);
const INTEGER_ROW = new RegExp(ROW.replaceAll(INTEGER, `(${INTEGER})`), 'g');
const RECORD = '{"timestamp":$1,"total":$2,"free":$3,"used":$4}';

/**
 * The records in one piece of a chunked answer (rows oldest first) as body text,
 * without brackets; '' when it holds none.
 *
 * The points we write are four integers, and their rows are rewritten as text by
 * one regular expression: parsing each row into an array and building a string of
 * it made most of what a streamed page allocates, and with ten large pages at once
 * that raised the API's peak memory by tens of MiB. The rest of the piece (an
 * error, the series' shape) is still parsed as JSON, with its values taken out. A
 * piece with anything else in its rows (floats, nulls) is parsed whole, and a row
 * that is not four numbers fails as before.
 */
export function chunkRecords(line: string): string {
  const split = splitValues(line);
  if (split !== undefined) {
    const envelope = tryParse(split.envelope);
    if (envelope !== undefined) {
      const series = seriesOf(envelope[0] ?? {});
      if (series.length === 1 && series[0]!.values.length === 0 && INTEGER_ROWS.test(split.values)) {
        return split.values.replace(INTEGER_ROW, RECORD);
      }
    }
  }
  const results = parseResults(line, 'a streamed piece');
  return seriesOf(results?.[0] ?? {})
    .filter((series) => series.values.length > 0)
    .map((series) => series.values.map(recordJson).join(','))
    .join(',');
}

/**
 * The piece's only values array taken out: its inside, and the piece with it empty.
 * Rows hold only scalars, so the array ends at the first `]]`.
 */
function splitValues(line: string): { envelope: string; values: string } | undefined {
  const key = line.indexOf(VALUES_KEY);
  if (key < 0) return undefined;
  const start = key + VALUES_KEY.length;
  const end = line.indexOf(']]', start);
  if (end < 0 || line.includes(VALUES_KEY, end)) return undefined;
  return { envelope: line.slice(0, start) + line.slice(end + 1), values: line.slice(start, end + 1) };
}

/** The piece with its values taken out, or undefined when that is not JSON (then the whole piece is parsed). */
function tryParse(envelope: string): StatementResult[] | undefined {
  try {
    return parseResults(envelope, 'a streamed piece');
  } catch {
    return undefined;
  }
}
