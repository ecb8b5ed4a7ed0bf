import { expect } from 'chai';
import { CsvLines, formatOf, parseJsonLine, parseLineProtocol, parseTimestamp } from '../../../importer/parse.js';

const point = (timestamp: number, host = 'default') => ({ kind: 'point', point: { host, timestamp, total: 8192, free: 2048, used: 6144 } });

describe('import parsing', () => {
  it('tells formats by extension', () => {
    expect(['a.csv', 'a.tsv', 'a.jsonl', 'a.ndjson', 'a.lp', 'a.txt', 'a.bin'].map(formatOf)).to.deep.equal(['csv', 'csv', 'jsonl', 'jsonl', 'lp', 'lp', undefined]);
    expect(['export.lp.gz', 'a.CSV.GZ', 'a.gz', 'a.gz.csv'].map(formatOf)).to.deep.equal(['lp', 'csv', undefined, 'csv']);
  });

  const timestamps: Array<[unknown, number | undefined]> = [
    [1647033600, 1647033600],
    ['1647033600', 1647033600],
    [1647033600123, 1647033600],
    [1647033600123456, 1647033600],
    [1647033600123456789, 1647033600],
    ['2022-03-11T21:20:00Z', 1647033600],
    ['2022-03-11 21:20:00', 1647033600],
    ['2022-03-11T22:20:00+01:00', 1647033600],
    ['yesterday', undefined],
    [-5, undefined],
    [1.5, 1],
  ];
  for (const [input, expected] of timestamps) {
    it(`timestamp ${JSON.stringify(input)} -> ${expected}`, () => expect(parseTimestamp(input)).to.equal(expected));
  }

  it('CSV: columns by the header, in any order, host optional', () => {
    const csv = new CsvLines('default');
    expect(csv.parse('used,free,total,timestamp,host')).to.deep.equal({ kind: 'skip' });
    expect(csv.parse('6144,2048,8192,1647033600,web-1')).to.deep.equal(point(1647033600, 'web-1'));
    expect(csv.parse('6144,2048,8192,1647033660,')).to.deep.equal(point(1647033660));
    expect(csv.parse('6144,2048,lots,1647033600,web-1')).to.deep.include({ kind: 'bad' });
    expect(csv.parse('6144,2048')).to.deep.include({ kind: 'bad' });
    expect(csv.parse('')).to.deep.equal({ kind: 'skip' });
  });

  it('CSV: cells separated as the header is, by commas, semicolons (Excel where the decimal mark is a comma) or tabs', () => {
    for (const separator of [';', '\t']) {
      const csv = new CsvLines('default');
      expect(csv.parse(['"timestamp"', 'total', 'free', 'used'].join(separator))).to.deep.equal({ kind: 'skip' });
      expect(csv.parse(['1647033600', '8192', '2048', '6144'].join(separator))).to.deep.equal(point(1647033600));
      expect(csv.parse('1647033600,8192,2048,6144')).to.deep.equal({ kind: 'bad', reason: '1 cell where the header has 4' });
    }
    // A semicolon inside a comma-separated file is part of its cell.
    const commas = new CsvLines('default');
    commas.parse('timestamp,total,free,used,host');
    expect(commas.parse('1647033600,8192,2048,6144,a;b')).to.deep.equal(point(1647033600, 'a;b'));
  });

  it('CSV: a cell in double quotes may hold the separator, and "" for a quote (RFC 4180, as InfluxDB\'s CLI, sqlite3 -csv and Excel write)', () => {
    const commas = new CsvLines('default');
    commas.parse('timestamp,total,free,used,host');
    expect(commas.parse('1647033600,8192,2048,6144,"rack 1, slot 2"')).to.deep.equal(point(1647033600, 'rack 1, slot 2'));
    expect(commas.parse('"1647033600" , 8192,2048,6144, "say ""hi"""')).to.deep.equal(point(1647033600, 'say "hi"'));
    expect(commas.parse('1647033600,"8,192",2048,6144,web-1')).to.deep.equal({ kind: 'bad', reason: 'total is not a whole number of MiB: "8,192"' });
    expect(commas.parse('1647033600,8192,2048,6144,""')).to.deep.equal(point(1647033600));
    // Not quoted as RFC 4180 has it: read as the text it is, as before quotes were read.
    expect(commas.parse('1647033600,8192,2048,6144,"web-1')).to.deep.equal(point(1647033600, '"web-1'));
    expect(commas.parse('1647033600,8192,2048,6144,"web"-1')).to.deep.equal(point(1647033600, '"web"-1'));
    expect(commas.parse('1647033600,8192,2048,6144,web "1"')).to.deep.equal(point(1647033600, 'web "1"'));
    const semicolons = new CsvLines('default');
    semicolons.parse('timestamp;total;free;used;host');
    expect(semicolons.parse('1647033600;8192;2048;6144;"rack 1; slot 2"')).to.deep.equal(point(1647033600, 'rack 1; slot 2'));
    const tabs = new CsvLines('default');
    tabs.parse('timestamp\ttotal\tfree\tused\thost');
    expect(tabs.parse('1647033600\t8192\t2048\t6144\t "rack 1" ')).to.deep.equal(point(1647033600, 'rack 1'));
  });

  it("CSV and JSON lines: a time column or key stands for timestamp (InfluxDB's exports, the embedded store's table)", () => {
    const csv = new CsvLines('default');
    expect(csv.parse('name,time,free,host,total,used')).to.deep.equal({ kind: 'skip' });
    expect(csv.parse('memory,1647033600000000000,2048,web-1,8192,6144')).to.deep.equal(point(1647033600, 'web-1'));
    expect(csv.parse('memory,2022-03-11T21:20:00Z,2048,web-1,8192,6144')).to.deep.equal(point(1647033600, 'web-1'));
    expect(parseJsonLine('{"time":1647033600,"total":8192,"free":2048,"used":6144}', 'default')).to.deep.equal(point(1647033600));
    // Both named: timestamp is the one read.
    expect(parseJsonLine('{"timestamp":1647033600,"time":"x","total":8192,"free":2048,"used":6144}', 'default')).to.deep.equal(point(1647033600));
  });

  it('CSV: a header without the needed columns makes the file unreadable, saying what it lacks', () => {
    expect(new CsvLines('d').parse('date,total,mem')).to.deep.equal({ kind: 'unreadable', reason: 'the header lacks timestamp, free, used (columns: timestamp,total,free,used[,host])' });
    expect(new CsvLines('d').parse('date;total;free;mem')).to.deep.equal({ kind: 'unreadable', reason: 'the header lacks timestamp, used (columns: timestamp,total,free,used[,host])' });
  });

  it('a record without a needed key says which, and what keys it has (an error answer piped in, say)', () => {
    expect(parseJsonLine('{"detail":[{"type":"int_parsing"}]}', 'd')).to.deep.equal({ kind: 'bad', reason: 'no timestamp (its keys: detail)' });
    expect(parseJsonLine('{}', 'd')).to.deep.equal({ kind: 'bad', reason: 'no timestamp (it has no keys)' });
    expect(parseJsonLine('{"timestamp":1647033600,"total":8192}', 'd')).to.deep.equal({ kind: 'bad', reason: 'no free (its keys: timestamp, total)' });
    const many = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`k${i}`, i]));
    expect(parseJsonLine(JSON.stringify(many), 'd')).to.deep.equal({ kind: 'bad', reason: 'no timestamp (its keys: k0, k1, k2, k3, k4, k5, k6, k7, …)' });
  });

  it('JSON lines: objects with the same keys', () => {
    expect(parseJsonLine('{"timestamp":1647033600,"total":8192,"free":2048,"used":6144}', 'default')).to.deep.equal(point(1647033600));
    expect(parseJsonLine('{"timestamp":1647033600,"total":8192,"free":2048,"used":-1}', 'd')).to.deep.include({ kind: 'bad' });
    expect(parseJsonLine('[1,2]', 'd')).to.deep.include({ kind: 'bad' });
    expect(parseJsonLine('{oops', 'd')).to.deep.equal({ kind: 'bad', reason: 'not JSON' });
  });

  it('line protocol: memory points in any precision; other measurements skipped', () => {
    expect(parseLineProtocol('memory,host=web\\ 1 total=8192i,free=2048i,used=6144i 1647033600000000000', 'd')).to.deep.equal(point(1647033600, 'web 1'));
    expect(parseLineProtocol('memory total=8192i,free=2048i,used=6144i 1647033600', 'default')).to.deep.equal(point(1647033600));
    expect(parseLineProtocol('cpu,host=a usage=1 1647033600', 'd')).to.deep.equal({ kind: 'skip' });
    expect(parseLineProtocol('# comment', 'd')).to.deep.equal({ kind: 'skip' });
    // `influx_inspect export` writes its DDL before the points.
    expect(parseLineProtocol('CREATE DATABASE telegraf WITH NAME autogen', 'd')).to.deep.equal({ kind: 'skip' });
    expect(parseLineProtocol('CREATE RETENTION POLICY "week" ON "telegraf" DURATION 168h REPLICATION 1', 'd')).to.deep.equal({ kind: 'skip' });
    expect(parseLineProtocol('memory,host=a total=8192i', 'd')).to.deep.include({ kind: 'bad' });
    expect(parseLineProtocol('memory,host=a total=x,free=1i,used=1i 1', 'd')).to.deep.include({ kind: 'bad' });
  });
});
