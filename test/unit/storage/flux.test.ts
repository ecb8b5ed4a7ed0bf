import { expect } from 'chai';
import { linesToTables, stringToLines, type FluxTableMetaData } from '@influxdata/influxdb-client';
import { bucketFlux, newestFlux, oldestFlux, pageFlux, recordFromRow, timeFromRow } from '../../../storage/flux.js';
import { loadFluxParser, type FluxParser } from '../../helpers/flux-parser.js';

const HOSTILE_HOSTS = ['web-1', 'a" or true //', 'x") |> drop(columns: ["host"]) |> yield(name: "', 'back\\\\slash', 'ünïcode host', "it's"];

/** Every query the v2 store sends, for a set of awkward parameters. */
function generated(): Array<[string, string]> {
  const texts: Array<[string, string]> = [];
  for (const host of HOSTILE_HOSTS) {
    for (const bucket of ['memory_tracker', 'my "bucket"']) {
      texts.push([`newest, all hosts, ${bucket}`, newestFlux(bucket, 1_700_000_000, 1_800_000_000).toString()]);
      texts.push([`newest of ${host}`, newestFlux(bucket, 0, 1_800_000_000, host).toString()]);
      texts.push([`oldest of ${host}`, oldestFlux(bucket, host, 1_700_000_000).toString()]);
      texts.push([`page of ${host}`, pageFlux(bucket, host, 1_699_000_000, 1_700_000_000, 10, 3).toString()]);
      texts.push([`large page of ${host}`, pageFlux(bucket, host, 0, 1_800_000_000, 99_999, 9_007_199_254_740_991).toString()]);
      texts.push([`bucket ${bucket}`, bucketFlux(bucket).toString()]);
    }
  }
  return texts;
}

describe("Flux queries, parsed by InfluxData's own parser (WebAssembly)", () => {
  let parser: FluxParser;
  before(async () => {
    parser = await loadFluxParser();
  });

  it('catches what is broken (the parser is really checking)', () => {
    for (const broken of ['from(bucket: "b") |> range(start: ', 'from(bucket: "b" |> last()', 'x = "unterminated', 'from(bucket: "b") |> filter(fn: (r) => r.host == )']) {
      expect(parser.problems(broken), broken).not.to.be.empty;
    }
  });

  for (const [name, text] of generated()) {
    it(`${name}: parses without errors`, () => {
      expect(parser.problems(text), text).to.deep.equal([]);
      // Cut short, the same text must not parse: a check that can fail.
      expect(parser.problems(text.slice(0, Math.floor(text.length * 0.6))), 'truncated').not.to.be.empty;
    });
  }

  it("ends the newest points' query where it is told, not at the server's now (Flux's default)", () => {
    for (const text of [newestFlux('b', 0, 1_800_000_000).toString(), newestFlux('b', 0, 1_800_000_000, 'h').toString()]) {
      expect(text).to.include('range(start: 1970-01-01T00:00:00.000Z, stop: 2027-01-15T08:00:01.000Z)');
    }
  });

  for (const host of HOSTILE_HOSTS) {
    it(`keeps the host ${JSON.stringify(host)} one string literal, never code`, () => {
      expect(parser.strings(pageFlux('b', host, 0, 1, 10, 0).toString())).to.include(host);
      expect(parser.strings(newestFlux('b', 0, 1, host).toString())).to.include(host);
    });
  }
});

/** Runs an annotated CSV body through the client's own CSV parser into a row mapper. */
function mapRows<T>(csv: string, mapper: (values: string[], table: FluxTableMetaData) => T): T[] {
  const rows: T[] = [];
  stringToLines(csv, linesToTables({ next: (values, table) => void rows.push(mapper(values, table)), error: (error) => { throw error; }, complete: () => undefined }));
  return rows;
}

describe('Mapping InfluxDB 2.x annotated CSV to API records', () => {
  // As the InfluxDB 2.x API documents /api/v2/query answers (dialect annotations datatype, group, default).
  const page = [
    '#datatype,string,long,dateTime:RFC3339,long,long,long',
    '#group,false,false,false,false,false,false',
    '#default,_result,,,,,',
    ',result,table,_time,free,total,used',
    ',,0,2022-03-11T21:20:00Z,2048,8192,6144',
    ',,0,2022-03-11T21:21:40Z,1024,8192,7168',
    '',
  ].join('\r\n');

  it('maps pivoted rows to records with the API keys in order', () => {
    const records = mapRows(page, recordFromRow);
    expect(JSON.stringify(records)).to.equal('[{"timestamp":1647033600,"total":8192,"free":2048,"used":6144},{"timestamp":1647033700,"total":8192,"free":1024,"used":7168}]');
  });

  it('refuses a row with a missing value', () => {
    const holed = page.replace(',,0,2022-03-11T21:20:00Z,2048,8192,6144', ',,0,2022-03-11T21:20:00Z,,8192,6144');
    expect(mapRows(holed, recordFromRow)[0]).to.equal(undefined);
  });

  it('reads the newest point of each host from last() tables', () => {
    const newest = [
      '#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,long,string,string,string',
      '#group,false,false,true,true,false,false,true,true,true',
      '#default,_result,,,,,,,,',
      ',result,table,_start,_stop,_time,_value,_field,_measurement,host',
      ',,0,2022-03-11T00:00:00Z,2022-03-12T00:00:00Z,2022-03-11T21:21:40Z,7168,used,memory,web-1',
      '',
      '#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,long,string,string,string',
      '#group,false,false,true,true,false,false,true,true,true',
      '#default,_result,,,,,,,,',
      ',result,table,_start,_stop,_time,_value,_field,_measurement,host',
      ',,1,2022-03-11T00:00:00Z,2022-03-12T00:00:00Z,2022-03-11T21:20:00Z,6144,used,memory,db-1',
      '',
    ].join('\r\n');
    expect(mapRows(newest, timeFromRow)).to.deep.equal([
      { host: 'web-1', time: 1647033700 },
      { host: 'db-1', time: 1647033600 },
    ]);
  });
});
