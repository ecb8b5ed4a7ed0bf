import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseMeminfo } from '../../../collector/meminfo.js';

// Fixtures live in the source tree; tests run from dist/, two levels deeper.
const FIXTURES = join(process.cwd(), 'test', 'fixtures', 'proc');

describe('parseMeminfo (captured /proc/meminfo files)', () => {
  const cases = readdirSync(FIXTURES);
  it('has a fixture per documented case', () => {
    expect(cases).to.include.members(['normal-host', 'no-memavailable', 'container-lxcfs', 'truncated', 'malformed-value', 'empty']);
  });

  for (const name of cases) {
    const text = readFileSync(join(FIXTURES, name, 'meminfo'), 'utf8');
    const expected = JSON.parse(readFileSync(join(FIXTURES, name, 'expected.json'), 'utf8')) as { error?: string };
    if (expected.error) {
      it(`${name}: fails with ${expected.error}, never a zero`, () => {
        expect(() => parseMeminfo(text)).to.throw().with.property('code', expected.error);
      });
    } else {
      it(`${name}: ${JSON.stringify(expected)}`, () => {
        const reading = parseMeminfo(text);
        expect(reading).to.deep.equal(expected);
        expect(reading.used + reading.free).to.equal(reading.total);
      });
    }
  }

  it('rejects a needed field given twice', () => {
    expect(() => parseMeminfo('MemTotal: 2048 kB\nMemTotal: 4096 kB\nMemAvailable: 1024 kB\n')).to.throw().with.property('code', 'MEMINFO_INVALID');
  });
});
