import { expect } from 'chai';
import { parseQueryString } from '../../../api/query-string.js';

// Expected values as Python 3.11's urllib.parse.parse_qsl(keep_blank_values=True) gives them.
const CASES: Array<[raw: string, expected: Array<[string, string]>]> = [
  ['', []],
  ['limit=10&skip=3', [['limit', '10'], ['skip', '3']]],
  ['limit=1&limit=2', [['limit', '2']]],
  ['limit', [['limit', '']]],
  ['limit=', [['limit', '']]],
  ['&&limit=5&', [['limit', '5']]],
  ['a=b=c', [['a', 'b=c']]],
  ['a+b=c+d', [['a b', 'c d']]],
  ['x=%2B1', [['x', '+1']]],
  ['x=%zz', [['x', '%zz']]],
  ['x=%4', [['x', '%4']]],
  ['x=%', [['x', '%']]],
  ['x=%C3%A9', [['x', 'é']]],
  ['x=%c3%a9', [['x', 'é']]],
  ['x=%C3', [['x', '\uFFFD']]],
  ['x=%EF%BB%BF1', [['x', '\uFEFF1']]],
  ['x=%00', [['x', '\u0000']]],
  ['li%6Dit=4', [['limit', '4']]],
  ['x=a;b', [['x', 'a;b']]],
];

describe('parseQueryString (Python parse_qsl semantics)', () => {
  for (const [raw, expected] of CASES) {
    it(`"${raw}"`, () => {
      expect([...parseQueryString(raw)]).to.deep.equal(expected);
    });
  }
});
