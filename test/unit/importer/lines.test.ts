import { expect } from 'chai';
import { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { OVERLONG, textLines } from '../../../importer/lines.js';

/** The lines read from a stream of `pieces`, an overlong one as '<overlong>'. */
async function read(pieces: readonly string[], longest?: number): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of textLines(Readable.from(pieces), longest)) lines.push(line === OVERLONG ? '<overlong>' : line);
  return lines;
}

/** `text` cut into two pieces at every place, and into pieces of one character: where a piece ends must not matter. */
function cuts(text: string): string[][] {
  return [...Array.from({ length: text.length + 1 }, (_, at) => [text.slice(0, at), text.slice(at)]), [...text]];
}

describe('textLines: the lines of a text, each no longer than the longest taken', () => {
  it('ends lines where node:readline does (\\n, \\r\\n, a lone \\r), wherever the text is cut into pieces', async () => {
    for (const text of ['a,b\nc\r\nd\re\r\r\nf\n\ng', 'a\n', '\n', '\r', '\r\n\r\n', 'x\r', '', 'one line']) {
      const readline: string[] = [];
      for await (const line of createInterface({ input: Readable.from([text]), crlfDelay: Infinity })) readline.push(line);
      for (const pieces of cuts(text)) expect(await read(pieces), JSON.stringify(pieces)).to.deep.equal(readline);
    }
  });

  it('gives a line longer than the longest as OVERLONG, and goes on with the next', async () => {
    const text = `short\n${'x'.repeat(11)}\r\n${'y'.repeat(10)}\nlast ${'z'.repeat(10)}`;
    for (const pieces of cuts(text)) {
      expect(await read(pieces, 10), JSON.stringify(pieces)).to.deep.equal(['short', '<overlong>', 'y'.repeat(10), '<overlong>']);
    }
  });
});
