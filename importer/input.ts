import { stat } from 'node:fs/promises';
import { ImportFileError } from '../errors.js';
import { jsonArrayElements } from './json-array.js';
import { LONGEST_RECORD, OVERLONG, textLines } from './lines.js';
import { CsvLines, formatOf, jsonRecord, parseJsonLine, parseLineProtocol, type ImportFormat, type LineResult } from './parse.js';
import type { ImportInput } from './run.js';
import { sqliteInput } from './sqlite-input.js';
import { openImportSource, startsWithArray, STDIN, type TextSource } from './source.js';

/** The formats `--format` names: `json` is `jsonl`'s other name, JSON lines or arrays alike. */
const FORMAT_NAMES: Readonly<Record<string, ImportFormat>> = { csv: 'csv', json: 'jsonl', jsonl: 'jsonl', lp: 'lp' };

/** The text format `--format` names, or undefined for a name it does not take. */
export function importFormatNamed(name: string): ImportFormat | undefined {
  return Object.hasOwn(FORMAT_NAMES, name) ? FORMAT_NAMES[name] : undefined;
}

export interface ImportInputOptions {
  /** The text format `--format` named; else the file's name tells it. */
  readonly format: ImportFormat | undefined;
  /** The host of rows that name none. */
  readonly defaultHost: string;
  /** The embedded store's file, when that is where the import writes: never read as input. */
  readonly storeFile: string | undefined;
}

/**
 * What the import reads from `file` (`-`: standard input): a SQLite database's
 * history table, told by the file's first bytes, or text in the format given, else
 * in the format its name says. Throws ImportFileError when it cannot be read at
 * all, or is the store's own file.
 */
export async function openImportInput(file: string, { format, defaultHost, storeFile }: ImportInputOptions): Promise<ImportInput> {
  const source = await openImportSource(file);
  if (source.kind === 'sqlite') {
    // Read into itself, the history would only be written over with what it holds,
    // and the summary would read as if it had gone somewhere: the usual intent is
    // the README's example, with `STORE=influxdb`.
    if (storeFile !== undefined && (await sameFile(source.path, storeFile))) {
      throw new ImportFileError(`${file} is the SQLite store this import writes to (SQLITE_PATH): to carry its history to InfluxDB, set STORE=influxdb and INFLUX_URL`);
    }
    return sqliteInput(source.path, defaultHost);
  }
  const textFormat = format ?? (file === STDIN ? undefined : formatOf(file));
  if (textFormat === undefined) {
    source.bytes.destroy();
    throw new ImportFileError(`Cannot tell the format of ${file === STDIN ? 'standard input' : file}: give --format csv, json or lp`);
  }
  if (textFormat === 'jsonl') {
    const json = await startsWithArray(source);
    if (json.array) return jsonArrayInput(json.source, defaultHost);
    return textInput(json.source, textFormat, defaultHost);
  }
  return textInput(source, textFormat, defaultHost);
}

/**
 * JSON arrays of records, as the API answers pages (and the original service did),
 * `sqlite3 -json` prints a table, or pages appended to one file: a result per
 * element, numbered across the arrays. An element that is not JSON ends the input
 * there (as a cut file does), the elements before it imported: after it, where the
 * next element begins cannot be trusted.
 */
function jsonArrayInput(source: TextSource, defaultHost: string): ImportInput {
  async function* results(): AsyncGenerator<LineResult> {
    for await (const text of jsonArrayElements(source.bytes.setEncoding('utf8'))) {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        throw new Error(`not JSON (${(error as Error).message})`, { cause: error });
      }
      yield jsonRecord(value, defaultHost);
    }
  }
  return { name: source.name, unit: 'record', results: results(), close: async () => void source.bytes.destroy() };
}

/** Text in one of the line formats, a result per line. */
function textInput(source: TextSource, format: ImportFormat, defaultHost: string): ImportInput {
  const csv = new CsvLines(defaultHost);
  const parse = (line: string): LineResult =>
    format === 'csv' ? csv.parse(line) : format === 'jsonl' ? parseJsonLine(line, defaultHost) : parseLineProtocol(line, defaultHost);
  async function* results(): AsyncGenerator<LineResult> {
    let first = true;
    for await (const text of textLines(source.bytes.setEncoding('utf8'))) {
      if (text === OVERLONG) {
        // Where a CSV header should be, nothing after it can be read as rows.
        const header = format === 'csv' && !csv.hasHeader;
        const reason = `longer than ${LONGEST_RECORD / 1024 / 1024} MiB: not ${header ? 'a CSV header' : 'a record'} (a file of another kind?)`;
        yield { kind: header ? 'unreadable' : 'bad', reason };
      } else {
        // A UTF-8 byte order mark (as Excel and Windows editors write) is not part of the data.
        yield parse(first && text.startsWith('\uFEFF') ? text.slice(1) : text);
      }
      first = false;
    }
  }
  return { name: source.name, unit: 'line', results: results(), close: async () => void source.bytes.destroy() };
}

/** Whether two paths name one file (through links, or spelt apart); false when either is missing. */
async function sameFile(path: string, other: string): Promise<boolean> {
  const [one, two] = await Promise.all([stat(path).catch(() => undefined), stat(other).catch(() => undefined)]);
  return one !== undefined && two !== undefined && one.dev === two.dev && one.ino === two.ino;
}
