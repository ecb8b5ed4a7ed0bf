import { expect } from 'chai';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer, text } from 'node:stream/consumers';
import { gzipSync } from 'node:zlib';
import { openImportSource, startsWithArray, type TextSource } from '../../../importer/source.js';
import { SqliteStore } from '../../../storage/sqlite.js';
import { failureOf } from '../../helpers/failure.js';

/** Standard input as the import would find it: these pieces, from a pipe or a terminal. */
function stdinOf(pieces: readonly Buffer[], isTTY = false): NodeJS.ReadStream {
  return Object.assign(Readable.from(pieces, { objectMode: false }), { isTTY }) as unknown as NodeJS.ReadStream;
}

/** Standard input from a pipe whose writer sends these pieces one at a time, each after a turn of the event loop. */
function tricklingStdin(pieces: readonly Buffer[]): NodeJS.ReadStream {
  async function* trickle(): AsyncGenerator<Buffer> {
    for (const piece of pieces) {
      await new Promise((resolve) => setImmediate(resolve));
      yield piece;
    }
  }
  return Object.assign(Readable.from(trickle(), { objectMode: false }), { isTTY: false }) as unknown as NodeJS.ReadStream;
}

/** The source, which must be text. */
function textSource(source: Awaited<ReturnType<typeof openImportSource>>): TextSource {
  if (source.kind !== 'text') throw new Error(`expected text, got ${source.kind}`);
  return source;
}

describe('openImportSource: the bytes the import reads', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mt-source-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('passes plain text through whole, and names a file by its path', async () => {
    const file = join(dir, 'plain.csv');
    await writeFile(file, 'timestamp,total,free,used\n1,2,1,1\n');
    const source = textSource(await openImportSource(file));
    expect(source.name).to.equal(file);
    expect(await text(source.bytes)).to.equal('timestamp,total,free,used\n1,2,1,1\n');
  });

  it('decompresses gzip told by its first two bytes, even when they come one at a time', async () => {
    const compressed = gzipSync('memory,host=a total=2i,free=1i,used=1i 1\n');
    const pieces = [compressed.subarray(0, 1), compressed.subarray(1, 2), compressed.subarray(2)];
    const source = textSource(await openImportSource('-', stdinOf(pieces)));
    expect(source.name).to.equal('(standard input)');
    expect(await text(source.bytes)).to.equal('memory,host=a total=2i,free=1i,used=1i 1\n');
  });

  it('reads empty input and a single byte as they are', async () => {
    expect(await text(textSource(await openImportSource('-', stdinOf([]))).bytes)).to.equal('');
    expect(await text(textSource(await openImportSource('-', stdinOf([Buffer.from('x')]))).bytes)).to.equal('x');
  });

  it('tells JSON arrays from JSON lines by the first character after a byte order mark and blanks, however the bytes come, and keeps every byte', async () => {
    const cases: Array<[string, boolean]> = [
      ['\uFEFF \r\n\t[{"timestamp":1}]', true],
      ['[]', true],
      ['\uFEFF{"timestamp":1}\n[1]', false],
      [' \n{"timestamp":1}', false],
      // More blanks than the first bytes read to tell gzip and SQLite apart.
      [`${' \n'.repeat(40)}[{"timestamp":1}]`, true],
      [`${' \n'.repeat(40)}{"timestamp":1}`, false],
      ['\uFEFF', false],
      ['', false],
    ];
    for (const [input, array] of cases) {
      const bytes = Buffer.from(input);
      for (const stdin of [stdinOf([bytes]), tricklingStdin([...bytes].map((byte) => Buffer.from([byte])))]) {
        const read = await startsWithArray(textSource(await openImportSource('-', stdin)));
        expect(read.array, JSON.stringify(input)).to.equal(array);
        expect((await buffer(read.source.bytes)).equals(bytes), JSON.stringify(input)).to.equal(true);
      }
    }
  });

  it('hands a SQLite database file back by its path, whatever its name, and refuses one it would have to read front to back', async () => {
    const path = join(dir, 'history.db');
    const store = SqliteStore.open({ kind: 'sqlite', path, timeoutMs: 1_000 });
    await store.close();
    expect(await openImportSource(path)).to.deep.equal({ kind: 'sqlite', path });
    const database = await readFile(path);
    for (const input of [database, gzipSync(database)]) {
      const error = (await failureOf(openImportSource('-', stdinOf([input])))) as { code?: string; message?: string };
      expect(error.code).to.equal('IMPORT_FILE_UNREADABLE');
      expect(error.message).to.equal('(standard input) is a SQLite database, which the import reads from an uncompressed file: give its path');
    }
  });

  it('refuses UTF-16 text, compressed or not, a terminal, gzip that is not, and a missing file, as IMPORT_FILE_UNREADABLE', async () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('timestamp\r\n', 'utf16le')]);
    const refusals: Array<[() => Promise<unknown>, string]> = [
      [() => openImportSource('-', stdinOf([utf16])), '(standard input) is UTF-16 text: save it as UTF-8 (iconv -f UTF-16 -t UTF-8)'],
      [() => openImportSource('-', stdinOf([gzipSync(utf16)])), '(standard input) is UTF-16 text: save it as UTF-8 (iconv -f UTF-16 -t UTF-8)'],
      [() => openImportSource('-', stdinOf([], true)), '- reads standard input, which is a terminal here: pipe the points into it (… | import - --format lp)'],
      [() => openImportSource('-', stdinOf([Buffer.from([0x1f, 0x8b, 0, 0, 0, 0])])), 'cannot decompress (standard input): unknown compression method'],
      [() => openImportSource(join(dir, 'missing.lp')), `cannot read ${join(dir, 'missing.lp')}: ENOENT: no such file or directory, open '${join(dir, 'missing.lp')}'`],
    ];
    for (const [opening, message] of refusals) {
      const error = (await failureOf(opening())) as { code?: string; message?: string };
      expect(error.code, message).to.equal('IMPORT_FILE_UNREADABLE');
      expect(error.message).to.equal(message);
    }
  });
});
