import { expect } from 'chai';
import { StoreRequestError, StoreUnavailableError } from '../../../errors.js';
import { chunkRecords, cutShort, joinChunks, refusedLimit, seriesOf } from '../../../storage/influx-json.js';

/** A piece of InfluxDB 1.x's chunked answer, as influxd writes it (epoch=s). */
function piece(values: string, extra = ''): string {
  return `{"results":[{"statement_id":0,"series":[{"name":"memory","columns":["time","total","free","used"],"values":[${values}]${extra}}],"partial":true}]}`;
}

describe('chunkRecords: a piece of InfluxDB\'s chunked answer as body text', () => {
  it('rewrites rows of four integers as records, in order, keys in the body\'s order', () => {
    expect(chunkRecords(piece('[1700000000,8192,2048,6144],[1700000060,8192,0,8192]'))).to.equal(
      '{"timestamp":1700000000,"total":8192,"free":2048,"used":6144},{"timestamp":1700000060,"total":8192,"free":0,"used":8192}',
    );
    expect(chunkRecords(piece('[-60,1,-2,3]'))).to.equal('{"timestamp":-60,"total":1,"free":-2,"used":3}');
  });

  it('answers rows that are not all integers as their numbers, parsed', () => {
    expect(chunkRecords(piece('[1700000000,8192.5,2048,6144.5]'))).to.equal('{"timestamp":1700000000,"total":8192.5,"free":2048,"used":6144.5}');
    expect(chunkRecords(piece('[1700000000,1e3,2048,6144]'))).to.equal('{"timestamp":1700000000,"total":1000,"free":2048,"used":6144}');
  });

  it('fails on a row that is not four numbers, wherever it is in the piece', () => {
    for (const values of ['[1700000000,8192,null,6144]', '[1,2,3,4],[1700000000,8192,2048]', '[1,2,3,4],[5,6,7,"8"]', '[1,2,3,4],[5,6,7,8,9]']) {
      expect(() => chunkRecords(piece(values)), values).to.throw(StoreUnavailableError, /not four numbers/);
    }
  });

  it('fails on a piece that is not JSON, even when its rows are', () => {
    expect(() => chunkRecords(`${piece('[1,2,3,4]')}}`)).to.throw(StoreUnavailableError, /not JSON/);
    expect(() => chunkRecords(piece('[1,2,3,04]'))).to.throw(StoreUnavailableError, /not JSON/);
  });

  it('passes on a statement InfluxDB refused, and answers nothing for a missing database or no series', () => {
    expect(() => chunkRecords('{"results":[{"statement_id":0,"error":"error parsing query: found EOF"}]}')).to.throw(StoreRequestError, /found EOF/);
    expect(() => chunkRecords('{"results":[{"statement_id":0,"error":"query interrupted"}]}')).to.throw(StoreUnavailableError, /gave up the query: query interrupted/);
    expect(chunkRecords('{"results":[{"statement_id":0,"error":"database not found: mt"}]}')).to.equal('');
    expect(chunkRecords('{"results":[{"statement_id":0}]}')).to.equal('');
    expect(chunkRecords('{}')).to.equal('');
  });

  it('answers every series of a piece that holds several', () => {
    const two = `{"results":[{"statement_id":0,"series":[{"name":"memory","columns":["time","total","free","used"],"values":[[1,2,3,4]]},{"name":"memory","columns":["time","total","free","used"],"values":[[5,6,7,8]]}]}]}`;
    expect(chunkRecords(two)).to.equal('{"timestamp":1,"total":2,"free":3,"used":4},{"timestamp":5,"total":6,"free":7,"used":8}');
  });

  it('is not misled by a tag whose value spells out a values array', () => {
    const tagged = piece('[1,2,3,4]', ',"tags":{"host":"a\\"values\\":[[9,9,9,9]]"}');
    expect(chunkRecords(tagged)).to.equal('{"timestamp":1,"total":2,"free":3,"used":4}');
  });
});

describe('joinChunks: a chunked answer as one whole answer would give it', () => {
  const piece = (results: unknown[]): string => JSON.stringify({ results });
  const columns = ['time', 'total'];

  it('joins a series that goes on in the next piece, and keeps statements and other series apart', () => {
    const text = [
      piece([{ statement_id: 0, series: [{ name: 'memory', tags: { host: 'a' }, columns, values: [[1, 10], [2, 20]], partial: true }], partial: true }]),
      piece([{ statement_id: 0, series: [{ name: 'memory', tags: { host: 'a' }, columns, values: [[3, 30]] }, { name: 'memory', tags: { host: 'b' }, columns, values: [[1, 5]] }] }]),
      piece([{ statement_id: 1, series: [{ name: 'memory', columns: ['time', 'count'], values: [[0, 3]] }] }]),
      '',
    ].join('\n');
    expect(joinChunks(text)).to.deep.equal([
      {
        series: [
          { name: 'memory', tags: { host: 'a' }, columns, values: [[1, 10], [2, 20], [3, 30]] },
          { name: 'memory', tags: { host: 'b' }, columns, values: [[1, 5]] },
        ],
      },
      { series: [{ name: 'memory', columns: ['time', 'count'], values: [[0, 3]] }] },
    ]);
  });

  it('keeps two series of the same name and tags apart when the first was not cut (two statements)', () => {
    const text = [piece([{ statement_id: 0, series: [{ name: 'memory', columns, values: [[1, 1]] }] }]), piece([{ statement_id: 1, series: [{ name: 'memory', columns, values: [[2, 2]] }] }])].join('\n');
    expect(joinChunks(text).map((result) => result.series?.map((series) => series.values))).to.deep.equal([[[[1, 1]]], [[[2, 2]]]]);
  });

  it("keeps a statement's error", () => {
    expect(joinChunks(piece([{ statement_id: 0, error: 'database not found: mt' }]))).to.deep.equal([{ error: 'database not found: mt', series: [] }]);
  });

  it('fails a piece that is not JSON as an unavailable store', () => {
    expect(() => joinChunks('{"results":[')).to.throw(StoreUnavailableError, 'InfluxDB answered a piece that is not JSON');
  });
});

describe('cutShort: an answer cut at max-row-limit', () => {
  it('is told by a partial series or statement, and only by those', () => {
    expect(cutShort([{ series: [{ columns: [], values: [], partial: true }] }])).to.equal(true);
    expect(cutShort([{ series: [], partial: true }])).to.equal(true);
    expect(cutShort([{ series: [{ columns: [], values: [] }] }, { error: 'x' }])).to.equal(false);
  });
});

describe("refusedLimit: InfluxDB's max-select-buckets and max-select-series, read from its refusal", () => {
  const refusal = (error: string): unknown => {
    try {
      seriesOf({ error });
    } catch (caught) {
      return caught;
    }
    return undefined;
  };

  it('reads the limit from the refusal seriesOf throws, and from nothing else', () => {
    expect(refusedLimit(refusal('max-select-buckets limit exceeded: (141/100)'), 'max-select-buckets')).to.equal(100);
    expect(refusedLimit(refusal('max-select-series limit exceeded: (5/2)'), 'max-select-series')).to.equal(2);
    expect(refusedLimit(refusal('max-select-series limit exceeded: (5/2)'), 'max-select-buckets')).to.equal(undefined);
    expect(refusedLimit(refusal('max-select-buckets limit exceeded: (141/100)'), 'max-select-series')).to.equal(undefined);
    expect(refusedLimit(refusal('max-select-point limit exceeed: (141/100)'), 'max-select-buckets')).to.equal(undefined);
    expect(refusedLimit(new StoreUnavailableError('InfluxDB refused the query: max-select-buckets limit exceeded: (141/100)'), 'max-select-buckets')).to.equal(undefined);
  });
});
