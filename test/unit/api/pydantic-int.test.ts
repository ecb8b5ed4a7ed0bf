import { expect } from 'chai';
import { parsePydanticInt } from '../../../api/pydantic-int.js';

// Expected values as pydantic-core 2.16 (pydantic 2.6) parses query strings.
const ACCEPTED: Array<[string, bigint]> = [
  ['0', 0n],
  ['10', 10n],
  ['+7', 7n],
  ['-7', -7n],
  ['-0', 0n],
  ['007', 7n],
  ['1_000', 1_000n],
  ['-1_0', -10n],
  ['-_1', -1n], // pydantic strips underscores after the sign check
  ['1.0', 1n],
  ['2.', 2n],
  ['3.000', 3n],
  ['0.0', 0n],
  ['99999999999999999999', 99999999999999999999n],
  ['9223372036854775808', 9223372036854775808n],
  ['1__000000000000000000', 1000000000000000000n], // 19+ bytes: num-bigint's laxer rules
  ['1000000000000000000_', 1000000000000000000n],
  ['+1000000000000000000', 1000000000000000000n],
  ['-1000000000000000000', -1000000000000000000n],
];

const REJECTED: Array<[string, 'int_parsing' | 'int_parsing_size']> = [
  ['', 'int_parsing'],
  ['+', 'int_parsing'],
  ['-', 'int_parsing'],
  ['ten', 'int_parsing'],
  [' 1', 'int_parsing'],
  ['1 ', 'int_parsing'],
  ['1.5', 'int_parsing'],
  ['1.05', 'int_parsing'],
  ['.0', 'int_parsing'],
  ['1e3', 'int_parsing'],
  ['0x10', 'int_parsing'],
  ['inf', 'int_parsing'],
  ['nan', 'int_parsing'],
  ['true', 'int_parsing'],
  ['[1]', 'int_parsing'],
  ['٣', 'int_parsing'],
  ['５', 'int_parsing'],
  ['1__0', 'int_parsing'],
  ['_1', 'int_parsing'],
  ['1_', 'int_parsing'],
  ['1_0.0', 'int_parsing'],
  ['+-1', 'int_parsing'],
  ['--1', 'int_parsing'],
  ['++1', 'int_parsing'],
  ['-+1000000000000000000', 'int_parsing'],
  ['_1000000000000000000', 'int_parsing'],
  ['9'.repeat(4_301), 'int_parsing_size'],
  [`-${'9'.repeat(4_300)}`, 'int_parsing_size'],
  ['é'.repeat(2_151), 'int_parsing_size'], // 4,302 bytes of UTF-8: counted in bytes
];

describe('parsePydanticInt', () => {
  for (const [text, value] of ACCEPTED) {
    it(`"${text}" -> ${value}`, () => {
      expect(parsePydanticInt(text)).to.deep.equal({ ok: true, value });
    });
  }
  for (const [text, type] of REJECTED) {
    it(`"${text.length > 20 ? `${text.slice(0, 20)}…` : text}" -> ${type}`, () => {
      expect(parsePydanticInt(text)).to.deep.equal({ ok: false, type });
    });
  }
  it('parses 4,300 digits', () => {
    expect(parsePydanticInt('9'.repeat(4_300))).to.deep.equal({ ok: true, value: BigInt('9'.repeat(4_300)) });
  });
});
