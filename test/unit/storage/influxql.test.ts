import { expect } from 'chai';
import { countQuery, newestQuery, pageBoundsQuery, pageQuery, quote, toLine } from '../../../storage/influxql.js';

describe('InfluxQL and line protocol text', () => {
  it('writes one line per point, integer fields, seconds', () => {
    expect(toLine({ host: 'web-1', timestamp: 1_647_033_600, total: 8_192, free: 2_048, used: 6_144 })).to.equal(
      'memory,host=web-1 total=8192i,free=2048i,used=6144i 1647033600',
    );
  });

  it('escapes commas, equals signs and spaces in the host tag', () => {
    expect(toLine({ host: 'a b,c=d', timestamp: 1, total: 1, free: 0, used: 1 })).to.equal('memory,host=a\\ b\\,c\\=d total=1i,free=0i,used=1i 1');
  });

  it('quotes string literals so a host cannot end the literal', () => {
    expect(quote("o'neil")).to.equal("'o\\'neil'");
    expect(newestQuery(0, "x' OR '1'='1")).to.include(`"host" = 'x\\' OR \\'1\\'=\\'1'`);
  });

  it("asks for a group of hosts' newest points as one condition, each host quoted", () => {
    expect(newestQuery(100, ['a', "o'neil"])).to.equal(
      `SELECT last("used") FROM "memory" WHERE time >= 100s AND ("host" = 'a' OR "host" = 'o\\'neil') GROUP BY "host"`,
    );
  });

  it('bounds every page query in time on both sides', () => {
    expect(pageQuery('h', 100, 200, 10, 3)).to.equal(
      `SELECT "total", "free", "used" FROM "memory" WHERE time >= 100s AND time <= 200s AND "host" = 'h' ORDER BY time DESC LIMIT 10 OFFSET 3`,
    );
  });

  it('counts points per bucket in a bounded window, leaving empty buckets out', () => {
    expect(countQuery('h', 100, 200, 86_400)).to.equal(
      `SELECT count("used") FROM "memory" WHERE time >= 100s AND time <= 200s AND "host" = 'h' GROUP BY time(86400s) fill(none)`,
    );
  });

  it('asks the bounds of a streamed page at two positions in one request, or at one', () => {
    const at = (to: number, offset: number): string =>
      `SELECT "used" FROM "memory" WHERE time >= 100s AND time <= ${to}s AND "host" = 'h' ORDER BY time DESC LIMIT 1 OFFSET ${offset}`;
    expect(pageBoundsQuery('h', 100, { toSeconds: 300, offset: 7 }, { toSeconds: 200, offset: 2 })).to.equal(`${at(300, 7)}; ${at(200, 2)}`);
    expect(pageBoundsQuery('h', 100, { toSeconds: 300, offset: 7 })).to.equal(at(300, 7));
  });
});
