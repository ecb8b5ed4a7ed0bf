import { expect } from 'chai';
import { Readable } from 'node:stream';
import { jsonArrayElements } from '../../../importer/json-array.js';

/** The elements read from a stream of `pieces`, and the error that ended the reading, if one did. */
async function read(pieces: readonly string[]): Promise<{ elements: string[]; error: string | undefined }> {
  const elements: string[] = [];
  try {
    for await (const element of jsonArrayElements(Readable.from(pieces))) elements.push(element);
  } catch (error) {
    return { elements, error: (error as Error).message };
  }
  return { elements, error: undefined };
}

/** `text` cut into two pieces at every place, and into pieces of one character: where a piece ends must not matter. */
function cuts(text: string): string[][] {
  return [...Array.from({ length: text.length + 1 }, (_, at) => [text.slice(0, at), text.slice(at)]), [...text]];
}

describe('jsonArrayElements: where the elements of JSON arrays end', () => {
  it('finds every element, whatever it holds and wherever the text is cut into pieces', async () => {
    const records = [
      { timestamp: 1, total: 2, free: 1, used: 1, host: 'a,]}"[{b\\' },
      { timestamp: 2, total: 2, free: 1, used: 1, tags: [[1, { x: '}' }], []], note: {} },
    ];
    const elements = [...records.map((record) => JSON.stringify(record)), '"text, ] }"', '17', 'null', '[]'];
    const text = `\uFEFF [${elements.join(',')}]\n[ ]\r\n[\n  ${JSON.stringify(records[0], null, 2)}\n]`;
    const expected = [...elements, JSON.stringify(records[0], null, 2)];
    for (const pieces of cuts(text)) expect(await read(pieces), JSON.stringify(pieces)).to.deep.equal({ elements: expected, error: undefined });
  });

  it('reads pages appended to one file, and nothing from empty arrays or blank text', async () => {
    expect(await read(['[1,2][3]\n\n[4]'])).to.deep.equal({ elements: ['1', '2', '3', '4'], error: undefined });
    expect(await read(['[]', ' \n', '[ ]'])).to.deep.equal({ elements: [], error: undefined });
    expect(await read([' \n'])).to.deep.equal({ elements: [], error: undefined });
  });

  it('hands out the elements before what is not arrays of elements, then says what it is', async () => {
    const cases: Array<[string, string[], string]> = [
      ['[1,2] x', ['1', '2'], '"x" outside the arrays, where only blanks and another array may come'],
      ['{"timestamp":1}', [], '"{" outside the arrays, where only blanks and another array may come'],
      ['[1,,2]', ['1'], 'an element missing before ","'],
      ['[,1]', [], 'an element missing before ","'],
      ['[1,]', ['1'], 'an element missing before "]"'],
      ['[1,{"a":[2}]', ['1'], 'a "}" where "]" should close'],
      ['[1,2}]', ['1'], 'a "}" where nothing is open'],
      ['[1,{"a":"b"', ['1'], 'the input ends inside an array (no closing "]")'],
      ['[1,"a]', ['1'], 'the input ends inside an array (no closing "]")'],
      ['[1', [], 'the input ends inside an array (no closing "]")'],
    ];
    for (const [text, elements, error] of cases) {
      for (const pieces of cuts(text)) expect(await read(pieces), JSON.stringify(pieces)).to.deep.equal({ elements, error });
    }
  });

  it('stops at an element longer than the longest it takes, holding no more of it than that and a piece', async () => {
    const pieces = ['[1,{"host":"', ...Array.from({ length: 100 }, () => 'x'.repeat(10))];
    const longest = 40;
    const elements: string[] = [];
    let heldAtMost = 0;
    async function* counted(): AsyncGenerator<string> {
      for (const [index, piece] of pieces.entries()) {
        heldAtMost = index;
        yield piece;
      }
    }
    let error: string | undefined;
    try {
      for await (const element of jsonArrayElements(counted(), longest)) elements.push(element);
    } catch (caught) {
      error = (caught as Error).message;
    }
    expect(elements).to.deep.equal(['1']);
    expect(error).to.equal(`a record longer than ${longest / 1024 / 1024} MiB (a quote or a bracket never closed?)`);
    // The element ("{"host":"" and 10 characters a piece) passed 40 characters at the fourth piece.
    expect(heldAtMost).to.equal(4);
    // At the limit itself, an element is read.
    expect(await read(['[1,"', 'x'.repeat(38), '"]'])).to.deep.equal({ elements: ['1', `"${'x'.repeat(38)}"`], error: undefined });
  });
});
