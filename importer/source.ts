import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { ImportFileError } from '../errors.js';

/** The FILE argument that names standard input, as most command-line tools take it. */
export const STDIN = '-';

/** What the import reads: its bytes, as UTF-8 text, and its name for messages. */
export interface ImportSource {
  /** The file's name, or `(standard input)` as grep and sed call it. */
  readonly name: string;
  readonly bytes: Readable;
}

/** The first bytes of gzip data, whatever the file is named (`influx_inspect export -compress` writes it). */
const GZIP_MAGIC = [0x1f, 0x8b] as const;

/** Byte order marks of UTF-16 text (little- and big-endian), which the import does not read. */
const UTF16_MARKS: ReadonlyArray<readonly [number, number]> = [
  [0xff, 0xfe],
  [0xfe, 0xff],
];

/**
 * Opens `file` (standard input for `-`) for the import: gzip data is decompressed,
 * told by its first bytes. Only the first piece is read here, enough to throw
 * ImportFileError for input the import cannot read at all (missing or unreadable,
 * not gzip after all, UTF-16 text as Windows PowerShell 5 writes by default, a
 * terminal) before a store is opened for it.
 */
export async function openImportSource(file: string, stdin: NodeJS.ReadStream = process.stdin): Promise<ImportSource> {
  const name = file === STDIN ? '(standard input)' : file;
  if (file === STDIN && stdin.isTTY) throw new ImportFileError(`${STDIN} reads standard input, which is a terminal here: pipe the points into it (… | import ${STDIN} --format lp)`);
  let bytes = await peeked(file === STDIN ? stdin : createReadStream(file), (reason) => `cannot read ${name}: ${reason}`);
  if (startsWith(bytes.first, GZIP_MAGIC)) {
    const gunzip = createGunzip();
    bytes.stream.on('error', (error) => gunzip.destroy(error)).pipe(gunzip);
    bytes = await peeked(gunzip, (reason) => `cannot decompress ${name}: ${reason}`);
  }
  if (UTF16_MARKS.some((mark) => startsWith(bytes.first, mark))) {
    bytes.stream.destroy();
    throw new ImportFileError(`${name} is UTF-16 text: save it as UTF-8 (iconv -f UTF-16 -t UTF-8)`);
  }
  return { name, bytes: bytes.stream };
}

/**
 * A stream's first bytes (at least as many as a mark is long, unless it is
 * shorter), read ahead, and a stream of all its bytes, those included.
 */
async function peeked(source: Readable, failure: (reason: string) => string): Promise<{ first: Buffer; stream: Readable }> {
  const pieces = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const head: Buffer[] = [];
  let ended = false;
  try {
    while (!ended && Buffer.concat(head).length < GZIP_MAGIC.length) {
      const next = await pieces.next();
      if (next.done) ended = true;
      else head.push(next.value);
    }
  } catch (error) {
    throw new ImportFileError(failure((error as Error).message), { cause: error });
  }
  async function* all(): AsyncGenerator<Buffer> {
    yield* head;
    if (ended) return;
    for (let next = await pieces.next(); !next.done; next = await pieces.next()) yield next.value;
  }
  return { first: Buffer.concat(head), stream: Readable.from(all(), { objectMode: false }) };
}

function startsWith(bytes: Buffer, prefix: readonly number[]): boolean {
  return bytes.length >= prefix.length && prefix.every((byte, index) => bytes[index] === byte);
}
