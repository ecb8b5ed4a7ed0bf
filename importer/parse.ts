import { pointProblem } from '../storage/point.js';
import type { MemoryPoint } from '../storage/types.js';

export type ImportFormat = 'csv' | 'jsonl' | 'lp';

/** What one line of input turned out to be. */
export type LineResult =
  | { readonly kind: 'point'; readonly point: MemoryPoint }
  | { readonly kind: 'bad'; readonly reason: string }
  /** Not data: a header, a comment, a blank line, another measurement. */
  | { readonly kind: 'skip' }
  /** A line that makes the whole file unreadable in its format: a CSV header without the needed columns. */
  | { readonly kind: 'unreadable'; readonly reason: string };

const FIELDS = ['timestamp', 'total', 'free', 'used'] as const;

/**
 * A record's time: its `timestamp`, as the original service names it, else its
 * `time`, as InfluxDB's exports (`influx -format csv`) and the embedded store name it.
 */
function timeOf(values: Readonly<Record<string, unknown>>): unknown {
  return values.timestamp !== undefined ? values.timestamp : values.time;
}

/** Whether a CSV header's columns name a field, `time` standing for `timestamp`. */
function namesField(columns: readonly string[], field: (typeof FIELDS)[number]): boolean {
  return columns.includes(field) || (field === 'timestamp' && columns.includes('time'));
}

/** The format of a file by its name: .csv/.tsv, .jsonl/.ndjson/.json, .lp/.line/.txt, each also with .gz after it. */
export function formatOf(path: string): ImportFormat | undefined {
  const name = path.replace(/\.gz$/i, '');
  if (/\.[ct]sv$/i.test(name)) return 'csv';
  if (/\.(jsonl|ndjson|json)$/i.test(name)) return 'jsonl';
  if (/\.(lp|line|txt)$/i.test(name)) return 'lp';
  return undefined;
}

/**
 * Seconds from a timestamp: whole seconds, or milli-, micro- or nanoseconds told
 * apart by size (as InfluxDB exports them), or an ISO 8601 date-time.
 */
export function parseTimestamp(value: unknown): number | undefined {
  if (typeof value === 'string' && /^\d+$/.test(value.trim())) value = Number(value.trim());
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) return undefined;
    const divisor = value >= 1e17 ? 1e9 : value >= 1e14 ? 1e6 : value >= 1e11 ? 1e3 : 1;
    return Math.floor(value / divisor);
  }
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}[T ]/.test(value)) {
    const ms = Date.parse(value.includes('Z') || /[+-]\d{2}:?\d{2}$/.test(value) ? value : `${value.replace(' ', 'T')}Z`);
    return Number.isNaN(ms) ? undefined : Math.floor(ms / 1_000);
  }
  return undefined;
}

function integer(value: unknown): number | undefined {
  if (typeof value === 'string' && /^\s*\d+\s*$/.test(value)) return Number(value);
  return typeof value === 'number' && Number.isSafeInteger(value) ? value : undefined;
}

/** A record's keys, to say what it has when it lacks one (an error answer piped in, say). */
function keysOf(values: Readonly<Record<string, unknown>>): string {
  const keys = Object.keys(values);
  return keys.length === 0 ? 'it has no keys' : `its keys: ${keys.slice(0, 8).join(', ')}${keys.length > 8 ? ', …' : ''}`;
}

/** A point from named values (timestamp or time, total, free, used, and host or else `defaultHost`), or why not. */
export function pointFrom(values: Readonly<Record<string, unknown>>, defaultHost: string): LineResult {
  const time = timeOf(values);
  if (time === undefined) return { kind: 'bad', reason: `no timestamp (${keysOf(values)})` };
  const timestamp = parseTimestamp(time);
  if (timestamp === undefined) return { kind: 'bad', reason: `timestamp is not a time: ${JSON.stringify(time)}` };
  const numbers: Record<string, number> = {};
  for (const field of ['total', 'free', 'used'] as const) {
    if (values[field] === undefined) return { kind: 'bad', reason: `no ${field} (${keysOf(values)})` };
    const number = integer(values[field]);
    if (number === undefined) return { kind: 'bad', reason: `${field} is not a whole number of MiB: ${JSON.stringify(values[field])}` };
    numbers[field] = number;
  }
  const host = values.host === undefined || values.host === '' ? defaultHost : String(values.host);
  const point: MemoryPoint = { host, timestamp, total: numbers.total!, free: numbers.free!, used: numbers.used! };
  const problem = pointProblem(point);
  return problem === undefined ? { kind: 'point', point } : { kind: 'bad', reason: problem };
}

/**
 * What separates cells, in the order tried on the header: commas, then semicolons
 * (the CSV of Excel where the decimal mark is a comma), then tabs (TSV).
 */
const CSV_SEPARATORS = [',', ';', '\t'] as const;

/** A CSV file's lines, the first non-blank one naming the columns, and with them the separator. */
export class CsvLines {
  private header: { readonly columns: readonly string[]; readonly separator: (typeof CSV_SEPARATORS)[number] } | undefined;

  constructor(private readonly defaultHost: string) {}

  /** Whether the header was read: lines before it are blank. */
  get hasHeader(): boolean {
    return this.header !== undefined;
  }

  parse(line: string): LineResult {
    if (line.trim() === '') return { kind: 'skip' };
    if (this.header === undefined) {
      const headers = CSV_SEPARATORS.map((separator) => ({ separator, columns: cellsOf(line, separator).map((cell) => cell.toLowerCase()) }));
      this.header = headers.find(({ columns }) => FIELDS.every((field) => namesField(columns, field)));
      if (this.header !== undefined) return { kind: 'skip' };
      // Said of the header as split by the separator it most likely has: the one giving most cells.
      const likely = headers.reduce((best, header) => (header.columns.length > best.columns.length ? header : best));
      const missing = FIELDS.filter((field) => !namesField(likely.columns, field));
      return { kind: 'unreadable', reason: `the header lacks ${missing.join(', ')} (columns: timestamp,total,free,used[,host])` };
    }
    const { columns, separator } = this.header;
    const cells = cellsOf(line, separator);
    if (cells.length !== columns.length) return { kind: 'bad', reason: `${cells.length} cell${cells.length === 1 ? '' : 's'} where the header has ${columns.length}` };
    return pointFrom(Object.fromEntries(columns.map((column, i) => [column, cells[i]])), this.defaultHost);
  }
}

/**
 * One cell and what ends it, by separator: a cell in double quotes may hold the
 * separator, and `""` for a quote (RFC 4180, as InfluxDB's CLI, `sqlite3 -csv` and
 * Excel quote a host such as `rack 1, slot 2`); any other cell runs to the next
 * separator. A quote never closed, or text after a closing one, makes the cell
 * unquoted, as it was read before quotes were.
 */
const CELLS = Object.fromEntries(
  CSV_SEPARATORS.map((separator) => {
    const blank = separator === '\t' ? ' ' : ' \t';
    return [separator, new RegExp(`[${blank}]*(?:"((?:[^"]|"")*)"[${blank}]*|([^${separator}]*))(${separator}|$)`, 'y')];
  }),
) as Readonly<Record<(typeof CSV_SEPARATORS)[number], RegExp>>;

function cellsOf(line: string, separator: (typeof CSV_SEPARATORS)[number]): string[] {
  const cell = CELLS[separator];
  const cells: string[] = [];
  for (let at = 0; ; ) {
    cell.lastIndex = at;
    // Always matches: an unquoted cell may be empty.
    const [, quoted, unquoted, end] = cell.exec(line)!;
    cells.push(quoted === undefined ? unquoted!.trim() : quoted.replaceAll('""', '"'));
    if (end === '') return cells;
    at = cell.lastIndex;
  }
}

export function parseJsonLine(line: string, defaultHost: string): LineResult {
  if (line.trim() === '') return { kind: 'skip' };
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { kind: 'bad', reason: 'not JSON' };
  }
  return jsonRecord(value, defaultHost);
}

/** A point from a parsed JSON value, an object with the keys `pointFrom` takes, or why not. */
export function jsonRecord(value: unknown, defaultHost: string): LineResult {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { kind: 'bad', reason: 'not a JSON object' };
  return pointFrom(value as Record<string, unknown>, defaultHost);
}

/**
 * The statements `influx_inspect export` (InfluxDB 1.x's export) writes before its
 * points: `CREATE DATABASE … WITH NAME …`, and any `CREATE RETENTION POLICY`.
 */
const EXPORT_DDL = /^CREATE (DATABASE|RETENTION POLICY) /;

/** One line of InfluxDB line protocol; lines of other measurements, comments and an export's DDL are skipped. */
export function parseLineProtocol(line: string, defaultHost: string): LineResult {
  if (line.trim() === '' || line.startsWith('#') || EXPORT_DDL.test(line)) return { kind: 'skip' };
  const parts = splitUnescaped(line.trim(), ' ');
  if (parts.length !== 3) return { kind: 'bad', reason: 'not "measurement,tags fields timestamp"' };
  const [series, fieldText, timestamp] = parts as [string, string, string];
  const [measurement, ...tagPairs] = splitUnescaped(series, ',');
  if (unescape(measurement!) !== 'memory') return { kind: 'skip' };
  const values: Record<string, unknown> = { timestamp };
  for (const pair of tagPairs) {
    const [key, value] = splitUnescaped(pair, '=');
    if (unescape(key!) === 'host' && value !== undefined) values.host = unescape(value);
  }
  for (const pair of splitUnescaped(fieldText, ',')) {
    const [key, value] = splitUnescaped(pair, '=');
    if (value === undefined) return { kind: 'bad', reason: `field "${pair}" has no value` };
    values[unescape(key!)] = /^\d+i?$/.test(value) ? Number(value.replace(/i$/, '')) : /^\d+\.0*$/.test(value) ? Number(value) : value;
  }
  return pointFrom(values, defaultHost);
}

function splitUnescaped(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const character = text[i]!;
    if (character === '\\' && i + 1 < text.length) {
      current += character + text[i + 1];
      i++;
    } else if (character === separator) {
      parts.push(current);
      current = '';
    } else {
      current += character;
    }
  }
  parts.push(current);
  return parts;
}

function unescape(text: string): string {
  return text.replace(/\\(.)/g, '$1');
}
