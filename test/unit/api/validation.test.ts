import { expect } from 'chai';
import { RequestValidationError } from '../../../api/http-errors.js';
import { parseMemoryLogsQuery } from '../../../api/validation.js';

const parse = (entries: Array<[string, string]>) => parseMemoryLogsQuery(new Map(entries));

describe('parseMemoryLogsQuery', () => {
  it('defaults to limit 10, skip 0 and no host', () => {
    expect(parse([])).to.deep.equal({ limit: 10, skip: 0, host: undefined });
  });

  it('clamps a skip past 2^53 to a number beyond any data', () => {
    expect(parse([['skip', '1'.padEnd(40, '0')]]).skip).to.equal(Number.MAX_SAFE_INTEGER);
  });

  it('reports every bad parameter, in declaration order', () => {
    try {
      parse([['host', ''], ['skip', '-1'], ['limit', '0']]);
      expect.fail('expected a RequestValidationError');
    } catch (error) {
      expect(error).to.be.instanceOf(RequestValidationError);
      expect((error as RequestValidationError).issues.map((issue) => issue.loc[1])).to.deep.equal(['limit', 'skip', 'host']);
      expect((error as RequestValidationError).code).to.equal('REQUEST_INVALID');
    }
  });

  it('rejects a host holding a control character as pydantic rejects a pattern, and takes any other', () => {
    const pattern = '^[^\\x00-\\x1F\\x7F]*$';
    for (const host of ['web-1\n', 'web-1\r', 'a\u0000b', 'a\tb', 'a\u007fb']) {
      expect(() => parse([['host', host]]), JSON.stringify(host))
        .to.throw(RequestValidationError)
        .with.property('issues')
        .that.deep.equals([
          {
            type: 'string_pattern_mismatch',
            loc: ['query', 'host'],
            msg: `String should match pattern '${pattern}'`,
            input: host,
            ctx: { pattern },
            url: 'https://errors.pydantic.dev/2.6/v/string_pattern_mismatch',
          },
        ]);
    }
    for (const host of ['web 1, rack=2', "o'brien\\x", 'héte-\u0080-\u2028-🖥']) expect(parse([['host', host]]).host).to.equal(host);
  });

  it('rejects a host longer than 255 characters', () => {
    expect(() => parse([['host', 'h'.repeat(256)]])).to.throw(RequestValidationError).with.nested.property('issues[0].type', 'string_too_long');
  });
});
