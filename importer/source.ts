import { createReadStream } from 'node:fs';
import { once } from 'node:events';
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { ImportFileError } from '../errors.js';
import { isBlank } from './json-array.js';

/** The FILE argument that names standard input, as most command-line tools take it. */
export const STDIN = '-';

/** Text the import reads: its bytes, as UTF-8, and its name for messages. */
export interface TextSource {
  readonly kind: 'text';
  /** The file's name, or `(standard input)` as grep and sed call it. */
  readonly name: string;
  readonly bytes: Readable;
}

/** A SQLite database file, read by its path (a database is not read front to back). */
export interface SqliteSource {
  readonly kind: 'sqlite';
  readonly path: string;
}

/** The first bytes of every SQLite database file. */
const SQLITE_HEADER = [...Buffer.from('SQLite format 3\0', 'latin1')];

/** The first bytes of gzip data, whatever the file is named (`influx_inspect export -compress` writes it). */
const GZIP_MAGIC = [0x1f, 0x8b] as const;

/** Byte order marks of UTF-16 text (little- and big-endian), which the import does not read. */
const UTF16_MARKS: ReadonlyArray<readonly [number, number]> = [
  [0xff, 0xfe],
  [0xfe, 0xff],
];

/**
 * Opens `file` (standard input for `-`) for the import: gzip data is decompressed,
 * and a SQLite database file is handed back by its path, each told by its first
 * bytes. Only the first piece is read here, enough to throw ImportFileError for
 * input the import cannot read at all (missing or unreadable, not gzip after all,
 * UTF-16 text as Windows PowerShell 5 writes by default, a terminal, a database
 * that is not a file) before a store is opened for it.
 */
export async function openImportSource(file: string, stdin: NodeJS.ReadStream = process.stdin): Promise<TextSource | SqliteSource> {
  const name = file === STDIN ? '(standard input)' : file;
  if (file === STDIN && stdin.isTTY) throw new ImportFileError(`${STDIN} reads standard input, which is a terminal here: pipe the points into it (… | import ${STDIN} --format lp)`);
  let bytes = await peeked(file === STDIN ? stdin : createReadStream(file), hasMagicLength, (reason) => `cannot read ${name}: ${reason}`);
  const compressed = startsWith(bytes.first, GZIP_MAGIC);
  if (compressed) {
    // pipeline: a failure of either ends both, and so does the import's end (which
    // destroys the last), so that no file or pipe is left open behind it.
    const gunzip = pipeline(bytes.stream, createGunzip(), () => undefined);
    bytes = await peeked(gunzip, hasMagicLength, (reason) => `cannot decompress ${name}: ${reason}`);
  }
  if (startsWith(bytes.first, SQLITE_HEADER)) {
    bytes.stream.destroy();
    if (file !== STDIN && !compressed) return { kind: 'sqlite', path: file };
    throw new ImportFileError(`${name} is a SQLite database, which the import reads from an uncompressed file: give its path`);
  }
  if (UTF16_MARKS.some((mark) => startsWith(bytes.first, mark))) {
    bytes.stream.destroy();
    throw new ImportFileError(`${name} is UTF-16 text: save it as UTF-8 (iconv -f UTF-16 -t UTF-8)`);
  }
  return { kind: 'text', name, bytes: bytes.stream };
}

/**
 * Whether text starts, after a UTF-8 byte order mark and blanks, with `[`: JSON
 * arrays (the API's own answers, `sqlite3 -json`) rather than JSON lines. Reads
 * ahead to the first other character; the source handed back has it all still.
 */
export async function startsWithArray(source: TextSource): Promise<{ readonly array: boolean; readonly source: TextSource }> {
  const bytes = await peeked(source.bytes, (head) => firstSignificantByte(head) !== undefined, (reason) => `cannot read ${source.name}: ${reason}`);
  return { array: firstSignificantByte(bytes.first) === OPEN_BRACKET, source: { ...source, bytes: bytes.stream } };
}

const UTF8_MARK = [0xef, 0xbb, 0xbf] as const;
const OPEN_BRACKET = 0x5b;

/**
 * The first byte after a byte order mark and blanks, or undefined when `head` has
 * none yet. (A source's first bytes were read whole before, as many as a mark needs.)
 */
function firstSignificantByte(head: Buffer): number | undefined {
  const from = startsWith(head, UTF8_MARK) ? UTF8_MARK.length : 0;
  for (let index = from; index < head.length; index++) if (!isBlank(head[index]!)) return head[index];
  return undefined;
}

function hasMagicLength(head: Buffer): boolean {
  return head.length >= SQLITE_HEADER.length;
}

/**
 * A stream's first bytes (read until `enough` says so, or to its end), read ahead,
 * and the stream with them put back: the same stream, so that ending it closes its
 * file or pipe at once.
 */
async function peeked(source: Readable, enough: (head: Buffer) => boolean, failure: (reason: string) => string): Promise<{ first: Buffer; stream: Readable }> {
  let first = Buffer.alloc(0);
  try {
    while (!enough(first) && !source.readableEnded) {
      const piece = source.read() as Buffer | null;
      if (piece !== null) {
        first = Buffer.concat([first, piece]);
        continue;
      }
      const waiting = new AbortController();
      await Promise.race([once(source, 'readable', { signal: waiting.signal }), once(source, 'end', { signal: waiting.signal })]).finally(() => waiting.abort());
    }
  } catch (error) {
    source.destroy();
    throw new ImportFileError(failure((error as Error).message), { cause: error });
  }
  if (source.readableEnded) return { first, stream: Readable.from(first.length > 0 ? [first] : [], { objectMode: false }) };
  if (first.length > 0) source.unshift(first);
  return { first, stream: source };
}

function startsWith(bytes: Buffer, prefix: readonly number[]): boolean {
  return bytes.length >= prefix.length && prefix.every((byte, index) => bytes[index] === byte);
}
