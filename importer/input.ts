import { createInterface } from 'node:readline';
import { ImportFileError } from '../errors.js';
import { CsvLines, formatOf, parseJsonLine, parseLineProtocol, type ImportFormat, type LineResult } from './parse.js';
import type { ImportInput } from './run.js';
import { sqliteInput } from './sqlite-input.js';
import { openImportSource, STDIN, type TextSource } from './source.js';

const FORMATS: readonly string[] = ['csv', 'jsonl', 'lp'] satisfies ImportFormat[];

/** Whether `format` names one of the text formats, as `--format` takes them. */
export function isImportFormat(format: string | undefined): format is ImportFormat {
  return format !== undefined && FORMATS.includes(format);
}

/**
 * What the import reads from `file` (`-`: standard input): a SQLite database's
 * history table, told by the file's first bytes, or text in `format`, else in the
 * format its name says. Throws ImportFileError when it cannot be read at all.
 */
export async function openImportInput(file: string, format: ImportFormat | undefined, defaultHost: string): Promise<ImportInput> {
  const source = await openImportSource(file);
  if (source.kind === 'sqlite') return sqliteInput(source.path, defaultHost);
  const textFormat = format ?? (file === STDIN ? undefined : formatOf(file));
  if (textFormat === undefined) {
    source.bytes.destroy();
    throw new ImportFileError(`Cannot tell the format of ${file === STDIN ? 'standard input' : file}: give --format csv, jsonl or lp`);
  }
  return textInput(source, textFormat, defaultHost);
}

/** Text in one of the line formats, a result per line. */
function textInput(source: TextSource, format: ImportFormat, defaultHost: string): ImportInput {
  const csv = new CsvLines(defaultHost);
  const parse = (line: string): LineResult =>
    format === 'csv' ? csv.parse(line) : format === 'jsonl' ? parseJsonLine(line, defaultHost) : parseLineProtocol(line, defaultHost);
  async function* results(): AsyncGenerator<LineResult> {
    let first = true;
    for await (const text of createInterface({ input: source.bytes, crlfDelay: Infinity })) {
      // A UTF-8 byte order mark (as Excel and Windows editors write) is not part of the data.
      yield parse(first && text.startsWith('\uFEFF') ? text.slice(1) : text);
      first = false;
    }
  }
  return { name: source.name, unit: 'line', results: results(), close: async () => void source.bytes.destroy() };
}
