import Database from 'better-sqlite3';
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import { chmod, mkdir, mkdtemp, readdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { startApi } from '../../api/server.js';
import { listRecords, type MemoryRecord } from '../../storage/index.js';
import { InfluxStore } from '../../storage/influx.js';
import { SqliteStore } from '../../storage/sqlite.js';
import { testListen } from '../helpers/api.js';
import { runCli, startCli } from '../helpers/cli.js';
import { request } from '../helpers/http.js';
import { privateInflux, sharedInflux } from '../helpers/influx-fixture.js';
import { capturingLogger } from '../helpers/logger.js';
import { writeNotADatabase } from '../helpers/sqlite-files.js';
import { requireTool } from '../helpers/tools.js';
import { waitFor } from '../helpers/wait.js';
import { point } from './store-contract.js';

/** Every record the SQLite store at `path` holds for `host`, oldest first, read as the API reads them. */
async function storedRecords(path: string, host: string): Promise<MemoryRecord[]> {
  const store = SqliteStore.open({ kind: 'sqlite', path, timeoutMs: 1_000 });
  try {
    return await listRecords(store, { host, limit: 99_999, skip: 0 });
  } finally {
    await store.close();
  }
}

/** Points the import writes at a time (importer/run.ts): a cut file must be read past more than one batch. */
const BATCH_POINTS = 5_000;

describe('memory-tracker import (the CLI, real stores)', function () {
  this.timeout(60_000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mt-import-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('imports the original table as CSV, reports bad lines by number, and changes nothing the second time', async () => {
    const file = join(dir, 'memory_log.csv');
    await writeFile(
      file,
      ['timestamp,total,free,used', '1647033600,8192,2048,6144', '1647033700,8192,1024,7168', '1647033800,eight,1,1', '', '1647033900,8192,1000,7192', 'x,y'].join('\n'),
    );
    const env = { SQLITE_PATH: join(dir, 'csv.sqlite'), NODE_NAME: 'legacy' };
    const first = await runCli(['import', file], env);
    expect(first.code).to.equal(1);
    expect(first.stderr).to.include(`${file}:4: total is not a whole number of MiB: "eight"`);
    expect(first.stderr).to.include(`${file}:7: 2 cells where the header has 4`);
    expect(first.stdout).to.match(/^Imported 3 points for 1 host from .* 7 lines, 2 bad, 2 skipped\.\n$/);
    const second = await runCli(['import', file], env);
    expect(second.stdout).to.include('Imported 3 points');
    expect(await storedRecords(env.SQLITE_PATH, 'legacy')).to.deep.equal([
      { timestamp: 1647033600, total: 8192, free: 2048, used: 6144 },
      { timestamp: 1647033700, total: 8192, free: 1024, used: 7168 },
      { timestamp: 1647033900, total: 8192, free: 1000, used: 7192 },
    ]);
  });

  it('imports JSON lines with hosts, and --host for rows without one', async () => {
    const file = join(dir, 'points.jsonl');
    await writeFile(file, '{"timestamp":1647033600,"total":4096,"free":96,"used":4000,"host":"db-1"}\n{"timestamp":"2022-03-11T21:21:00Z","total":4096,"free":96,"used":4000}\n');
    const env = { SQLITE_PATH: join(dir, 'jsonl.sqlite') };
    const run = await runCli(['import', file, '--host', 'db-2'], env);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.include('Imported 2 points for 2 hosts');
    const store = SqliteStore.open({ kind: 'sqlite', path: env.SQLITE_PATH, timeoutMs: 1_000 });
    expect((await store.listHosts()).map(({ host }) => host)).to.have.members(['db-1', 'db-2']);
    await store.close();
  });

  it("imports the API's own pages, JSON arrays, appended to one file or piped in", async () => {
    const source = SqliteStore.open({ kind: 'sqlite', path: join(dir, 'served.sqlite'), timeoutMs: 1_000 });
    const served = Array.from({ length: 6 }, (_, i) => point('served', 1_647_033_600 + 60 * i, 4_000 + i));
    await source.write(served);
    const api = await startApi(testListen(), source, capturingLogger().logger);
    let pages: string[];
    try {
      const page = async (query: string): Promise<string> => (await request(api.port, 'GET', `/memory-logs/?${query}`)).body;
      pages = [await page('limit=3&skip=3'), await page('limit=3')];
    } finally {
      await api.close();
      await source.close();
    }
    const file = join(dir, 'pages.json');
    await writeFile(file, pages.join(''));
    const env = { SQLITE_PATH: join(dir, 'pages.sqlite') };
    const run = await runCli(['import', file, '--host', 'copy'], env);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.match(/^Imported 6 points for 1 host from .* 6 records, 0 bad, 0 skipped\.\n$/);
    const piped = await runCli(['import', '-', '--format', 'json', '--host', 'piped'], env, { input: Buffer.from(pages[1]!) });
    expect(piped.code, piped.stderr).to.equal(0);
    const records = served.map(({ timestamp, total, free, used }) => ({ timestamp, total, free, used }));
    expect(await storedRecords(env.SQLITE_PATH, 'copy')).to.deep.equal(records);
    expect(await storedRecords(env.SQLITE_PATH, 'piped')).to.deep.equal(records.slice(3));
  });

  it('numbers the records of a JSON array, reports bad ones, and stops at one that is not JSON with every record before it imported', async () => {
    const record = (i: number): Record<string, unknown> => ({ timestamp: 1_647_033_600 + 60 * i, total: 8_192, free: 1_000 + (i % 1_000), used: 7_192 - (i % 1_000), host: 'arr' });
    // Pretty-printed, as `jq .` or JSON.stringify(…, null, 2) write it.
    const pretty = join(dir, 'pretty.json');
    await writeFile(pretty, JSON.stringify([record(0), { ...record(1), free: 'x' }, record(2)], null, 2));
    const env = { SQLITE_PATH: join(dir, 'arrays.sqlite') };
    const bad = await runCli(['import', pretty], env);
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.equal(`${pretty}:2: free is not a whole number of MiB: "x"\n`);
    expect(bad.stdout).to.include('Imported 2 points for 1 host').and.include('3 records, 1 bad, 0 skipped.');
    // Longer than a batch and than the pieces a file is read in, broken at one record.
    const count = 12_000;
    const broken = 9_001;
    const texts = Array.from({ length: count }, (_, i) => JSON.stringify(record(3 + i)));
    texts[broken - 1] = texts[broken - 1]!.replace('"total":', '"total"');
    const cut = join(dir, 'broken.json');
    await writeFile(cut, `[${texts.join(',\n')}]`);
    const run = await runCli(['import', cut], env);
    expect(run.code).to.equal(1);
    expect(run.stderr).to.match(new RegExp(`^${cut}:${broken}: cannot read further: not JSON \\(.+\\)\\n$`));
    expect(run.stdout).to.include(`${(broken - 1).toLocaleString('en')} records, 0 bad, 0 skipped; the rest of ${cut} could not be read.`);
    const stored = await storedRecords(env.SQLITE_PATH, 'arr');
    expect(stored).to.have.length(2 + broken - 1);
    const { timestamp, total, free, used } = record(3 + broken - 2);
    expect(stored.at(-1)).to.deep.equal({ timestamp, total, free, used });
  });

  it('imports InfluxDB line protocol into a real influxd', async function () {
    const influx = await sharedInflux(this);
    const config = influx.storeConfig();
    const file = join(dir, 'export.lp');
    // As `influx_inspect export` writes it: a header, DDL, then the points.
    await writeFile(
      file,
      '# INFLUXDB EXPORT: 1677-09-21T00:12:43Z - 2262-04-11T23:47:16Z\n# DDL\nCREATE DATABASE memory_tracker WITH NAME autogen\n# DML\n# CONTEXT-DATABASE:memory_tracker\n# CONTEXT-RETENTION-POLICY:autogen\n# writing tsm data\n' +
        'memory,host=n1 total=8192i,free=2048i,used=6144i 1647033600000000000\ncpu,host=n1 usage=3 1647033600000000000\nmemory,host=n1 total=8192i,free=1024i,used=7168i 1647033660000000000\n',
    );
    const run = await runCli(['import', file], { STORE: 'influxdb', INFLUX_URL: config.url, INFLUX_DATABASE: config.database });
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.include(`Imported 2 points for 1 host from ${file} into InfluxDB ${config.url} (database ${config.database}) in `);
    expect(await listRecords(new InfluxStore(config), { host: 'n1', limit: 10, skip: 0 })).to.deep.equal([
      { timestamp: 1647033600, total: 8192, free: 2048, used: 6144 },
      { timestamp: 1647033660, total: 8192, free: 1024, used: 7168 },
    ]);
  });

  it("imports InfluxDB 1.x's own CSV exports (influx -format csv, and /query asked for CSV), its time column and host tags as it writes them", async function () {
    const influx = await sharedInflux(this);
    requireTool(this, 'influx', ['-version'], 'REQUIRE_INFLUXDB', 'Debian: apt-get install influxdb-client');
    const config = influx.storeConfig();
    // A host with the separator and quotes in it, which the CSV quotes.
    const quoted = 'rack 1, slot "2"';
    const points = [point('cli-1', 1_647_033_600), point(quoted, 1_647_033_660), point('cli-1', 1_647_033_720)];
    await new InfluxStore(config).write(points);
    const server = new URL(config.url);
    const env = { SQLITE_PATH: join(dir, 'influx-cli.sqlite') };
    for (const precision of ['ns', 's', 'rfc3339']) {
      const exported = spawnSync(
        'influx',
        ['-host', server.hostname, '-port', server.port, ...(server.protocol === 'https:' ? ['-ssl'] : []), '-database', config.database, '-precision', precision, '-format', 'csv', '-execute', 'SELECT * FROM memory'],
        { encoding: 'utf8' },
      );
      expect(exported.status, exported.stderr).to.equal(0);
      expect(exported.stdout.split('\n')[0]).to.equal('name,time,free,host,total,used');
      const file = join(dir, `influx-cli-${precision}.csv`);
      await writeFile(file, exported.stdout);
      const run = await runCli(['import', file], env);
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stdout).to.include('Imported 3 points for 2 hosts');
    }
    // The HTTP API's own CSV, as any client without the CLI would ask for it.
    const query = new URLSearchParams({ db: config.database, q: 'SELECT * FROM memory' });
    const answer = await fetch(`${config.url}/query?${query}`, { headers: { Accept: 'application/csv' } });
    const text = await answer.text();
    expect(text.split('\n')[0]).to.equal('name,tags,time,free,host,total,used');
    const viaHttp = join(dir, 'influx-http.csv');
    await writeFile(viaHttp, text);
    const run = await runCli(['import', viaHttp], { SQLITE_PATH: join(dir, 'influx-http.sqlite') });
    expect(run.code, run.stderr).to.equal(0);
    expect(text).to.include('"rack 1, slot ""2"""');
    for (const host of ['cli-1', quoted]) {
      const expected = points.filter((each) => each.host === host).map(({ timestamp, total, free, used }) => ({ timestamp, total, free, used }));
      expect(await storedRecords(env.SQLITE_PATH, host)).to.deep.equal(expected);
      expect(await storedRecords(join(dir, 'influx-http.sqlite'), host)).to.deep.equal(expected);
    }
  });

  it('says how many points InfluxDB dropped as older than its retention policy, stores the rest, and exits 1', async function () {
    const influx = await privateInflux(this);
    try {
      const config = influx.storeConfig();
      await influx.createHourDatabase(config.database);
      const now = Math.floor(Date.now() / 1_000);
      const file = join(dir, 'retention.csv');
      await writeFile(file, `timestamp,total,free,used\n1647033600,8192,2048,6144\n1647033660,8192,2048,6144\n${now - 60},8192,1024,7168\n`);
      const run = await runCli(['import', file, '--host', 'n1'], { STORE: 'influxdb', INFLUX_URL: config.url, INFLUX_DATABASE: config.database });
      expect(run.code, run.stderr).to.equal(1);
      expect(run.stdout, run.stdout).to.match(/^Imported 1 point for 1 host from .* 4 lines, 0 bad, 1 skipped, 2 dropped by the store as older than its retention policy\.\n$/);
      expect(await listRecords(new InfluxStore(config), { host: 'n1', limit: 10, skip: 0 })).to.deep.equal([{ timestamp: now - 60, total: 8192, free: 1024, used: 7168 }]);
    } finally {
      await influx.destroy();
    }
  });

  it('reports a point later than InfluxDB can hold (2262) as a bad line and imports the rest, rather than stop', async function () {
    const influx = await sharedInflux(this);
    const config = influx.storeConfig();
    const file = join(dir, 'far.jsonl');
    await writeFile(file, '{"timestamp":99999999999,"total":8192,"free":2048,"used":6144}\n{"timestamp":9223372036,"total":8192,"free":1024,"used":7168}\n');
    const run = await runCli(['import', file, '--host', 'far'], { STORE: 'influxdb', INFLUX_URL: config.url, INFLUX_DATABASE: config.database });
    expect(run.code, run.stderr).to.equal(1);
    expect(run.stderr).to.equal(`${file}:1: timestamp must be a whole number of seconds, from 1970 to 2262-04-11T23:47:16Z\n`);
    expect(run.stdout).to.include('Imported 1 point for 1 host');
    expect(await listRecords(new InfluxStore(config), { host: 'far', limit: 10, skip: 0 })).to.deep.equal([{ timestamp: 9223372036, total: 8192, free: 1024, used: 7168 }]);
  });

  it('stops with exit code 3 and one line, no stack, when the store cannot be opened, before any further file', async () => {
    const file = join(dir, 'one.csv');
    await writeFile(file, 'timestamp,total,free,used\n1647033600,8192,2048,6144\n');
    const path = join(dir, 'not-a-database.sqlite');
    await writeNotADatabase(path);
    const run = await runCli(['import', file, file], { STORE: 'sqlite', SQLITE_PATH: path });
    expect(run.code).to.equal(3);
    expect(run.stderr).to.equal(`Import stopped: SQLite store unavailable (SQLITE_NOTADB: file is not a database). No point of ${file} stored; importing again is safe.\n`);
    expect(run.stdout).to.equal('');
  });

  it('imports several files in turn, each with its summary, and exits with the highest of their codes', async () => {
    const csv = join(dir, 'several-1.csv');
    await writeFile(csv, 'timestamp,total,free,used,host\n1647033600,8192,2048,6144,many\n');
    const json = join(dir, 'several-2.json');
    await writeFile(json, '[{"timestamp":1647033660,"total":8192,"free":2000,"used":6192,"host":"many"},{"timestamp":1647033720,"total":8192,"free":-1,"used":6192}]');
    const missing = join(dir, 'several-missing.csv');
    const env = { SQLITE_PATH: join(dir, 'several.sqlite') };
    const partly = await runCli(['import', csv, json], env);
    expect(partly.code).to.equal(1);
    expect(partly.stderr).to.equal(`${json}:2: free must be a whole, non-negative number of MiB\n`);
    const summaries = partly.stdout.split('\n');
    const into = `into SQLite ${env.SQLITE_PATH}`;
    expect(summaries[0]).to.match(new RegExp(`^Imported 1 point for 1 host from ${csv} ${into} in .*: 2 lines, 0 bad, 1 skipped\\.$`));
    expect(summaries[1]).to.match(new RegExp(`^Imported 1 point for 1 host from ${json} ${into} in .*: 2 records, 1 bad, 0 skipped\\.$`));
    expect(summaries.slice(2)).to.deep.equal([`Imported 2 points from 2 files ${into}.`, '']);
    const unreadable = await runCli(['import', missing, csv], env);
    expect(unreadable.code).to.equal(2);
    expect(unreadable.stderr).to.match(new RegExp(`^cannot read ${missing}: ENOENT`));
    expect(unreadable.stdout).to.include(`from ${csv}`).and.include(`Imported 1 point from 2 files ${into}.`);
    expect(await storedRecords(env.SQLITE_PATH, 'many')).to.deep.equal([
      { timestamp: 1647033600, total: 8192, free: 2048, used: 6144 },
      { timestamp: 1647033660, total: 8192, free: 2000, used: 6192 },
    ]);
    const twice = await runCli(['import', '-', '-', '--format', 'csv'], env, { input: Buffer.from('') });
    expect(twice.code).to.equal(2);
    expect(twice.stderr).to.equal('import reads standard input (-) once.\n');
  });

  it('reads files with a UTF-8 byte order mark and Windows line ends, as Excel and Windows editors save them', async () => {
    const csv = join(dir, 'excel.csv');
    await writeFile(csv, '\uFEFFtimestamp,total,free,used\r\n1647033600,8192,2048,6144\r\n');
    const jsonl = join(dir, 'notepad.jsonl');
    await writeFile(jsonl, '\uFEFF{"timestamp":1647033660,"total":8192,"free":1024,"used":7168}\r\n');
    const env = { SQLITE_PATH: join(dir, 'marked.sqlite') };
    for (const file of [csv, jsonl]) {
      const run = await runCli(['import', file, '--host', 'win'], env);
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stdout).to.include('Imported 1 point for 1 host');
    }
    expect(await storedRecords(env.SQLITE_PATH, 'win')).to.deep.equal([
      { timestamp: 1647033600, total: 8192, free: 2048, used: 6144 },
      { timestamp: 1647033660, total: 8192, free: 1024, used: 7168 },
    ]);
  });

  it('reads a line longer than 1 MiB as a bad one and goes on, and stops at such a record in a JSON array or where a CSV header should be', async () => {
    const long = 'x'.repeat(2 * 1024 * 1024);
    const csv = join(dir, 'long-line.csv');
    await writeFile(csv, `timestamp,total,free,used\n1647033600,8192,2048,6144\n${long}\n1647033660,8192,1024,7168\n`);
    const lp = join(dir, 'long-line.lp');
    await writeFile(lp, `memory total=8192i,free=2048i,used=6144i 1647033720\nmemory,host=${long} total=1i,free=1i,used=0i 1647033780\n`);
    const json = join(dir, 'unclosed.json');
    await writeFile(json, `[{"timestamp":1647033840,"total":8192,"free":2048,"used":6144},{"timestamp":1647033900,"host":"${long}]`);
    const headerless = join(dir, 'no-newlines.csv');
    await writeFile(headerless, long);
    const env = { SQLITE_PATH: join(dir, 'long.sqlite') };

    const rows = await runCli(['import', csv, lp, '--host', 'h'], env);
    expect(rows.code, rows.stderr).to.equal(1);
    expect(rows.stderr).to.include(`${csv}:3: longer than 1 MiB: not a record (a file of another kind?)`);
    expect(rows.stderr).to.include(`${lp}:2: longer than 1 MiB: not a record (a file of another kind?)`);
    expect(rows.stdout).to.include('Imported 2 points for 1 host from').and.include('4 lines, 1 bad, 1 skipped');
    const records = await runCli(['import', json, '--host', 'h'], env);
    expect(records.code, records.stderr).to.equal(1);
    expect(records.stderr).to.include(`${json}:2: cannot read further: a record longer than 1 MiB (a quote or a bracket never closed?)`);
    expect(records.stdout).to.include('Imported 1 point for 1 host');
    const header = await runCli(['import', headerless], env);
    expect(header).to.deep.include({ code: 2, stdout: '' });
    expect(header.stderr).to.equal(`${headerless}:1: longer than 1 MiB: not a CSV header (a file of another kind?).\n`);
    expect((await storedRecords(env.SQLITE_PATH, 'h')).map((record) => record.timestamp)).to.deep.equal([1647033600, 1647033660, 1647033720, 1647033840]);
  });

  it('refuses a file it cannot read at all with exit code 2 and one line, without opening the store', async () => {
    const utf16 = join(dir, 'powershell.csv');
    await writeFile(utf16, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('timestamp,total,free,used\r\n1647033600,8192,2048,6144\r\n', 'utf16le')]));
    const missing = join(dir, 'missing.csv');
    const header = join(dir, 'header.csv');
    await writeFile(header, `date,mem\n${'1647033600,8192\n'.repeat(1_000)}`);
    const expected: Array<[string, RegExp]> = [
      [utf16, /^\S+powershell\.csv is UTF-16 text: save it as UTF-8 \(iconv -f UTF-16 -t UTF-8\)\.\n$/],
      [missing, /^cannot read \S+missing\.csv: ENOENT: no such file or directory, open '\S+missing\.csv'\.\n$/],
      [header, /^\S+header\.csv:1: the header lacks timestamp, total, free, used \(columns: timestamp,total,free,used\[,host\]\)\.\n$/],
    ];
    for (const [index, [file, message]] of expected.entries()) {
      const path = join(dir, `refused-${index}.sqlite`);
      const run = await runCli(['import', file], { SQLITE_PATH: path });
      expect(run.code, run.stderr).to.equal(2);
      expect(run.stderr).to.match(message);
      expect(run.stdout).to.equal('');
      expect(existsSync(path), `${path} made for nothing`).to.equal(false);
    }
  });

  it('reads gzip data, told by its first bytes, whatever the name', async () => {
    const lines = ['# DML', '# CONTEXT-DATABASE: memory_tracker', 'memory,host=gz total=8192i,free=2048i,used=6144i 1647033600000000000'];
    const compressed = join(dir, 'export.lp.gz');
    await writeFile(compressed, gzipSync(lines.join('\n')));
    const misnamed = join(dir, 'compressed.csv');
    await writeFile(misnamed, gzipSync('timestamp,total,free,used,host\n1647033660,8192,1024,7168,gz\n'));
    const env = { SQLITE_PATH: join(dir, 'gzip.sqlite') };
    for (const file of [compressed, misnamed]) {
      const run = await runCli(['import', file], env);
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stdout).to.include(`Imported 1 point for 1 host from ${file}`);
    }
    expect(await storedRecords(env.SQLITE_PATH, 'gz')).to.deep.equal([
      { timestamp: 1647033600, total: 8192, free: 2048, used: 6144 },
      { timestamp: 1647033660, total: 8192, free: 1024, used: 7168 },
    ]);
  });

  it('imports a cut gzip file as far as it can be read, never the cut line, says where it stopped, and exits 1', async () => {
    const count = 12_000;
    const text = Array.from({ length: count }, (_, i) => `{"timestamp":${1_647_033_600 + 60 * i},"total":65536,"free":${1_000 + i},"used":${64_536 - i},"host":"cut"}`).join('\n');
    const whole = gzipSync(text);
    const file = join(dir, 'cut.jsonl.gz');
    await writeFile(file, whole.subarray(0, Math.floor(whole.length * 0.7)));
    const env = { SQLITE_PATH: join(dir, 'cut.sqlite') };
    const run = await runCli(['import', file], env);
    expect(run.code, run.stderr).to.equal(1);
    const imported = Number(/^Imported ([\d,]+) points/.exec(run.stdout)?.[1]?.replace(/,/g, ''));
    expect(imported).to.be.above(BATCH_POINTS).and.below(count);
    expect(run.stderr).to.equal(`${file}:${imported + 1}: cannot read further: unexpected end of file\n`);
    expect(run.stdout).to.include(`${imported.toLocaleString('en')} lines, 0 bad, 0 skipped; the rest of ${file} could not be read.`);
    // Every whole line, and nothing of the cut one.
    expect(await storedRecords(env.SQLITE_PATH, 'cut')).to.deep.equal(Array.from({ length: imported }, (_, i) => ({ timestamp: 1_647_033_600 + 60 * i, total: 65_536, free: 1_000 + i, used: 64_536 - i })));
  });

  it('reads standard input for -, whose format --format must give', async () => {
    const env = { SQLITE_PATH: join(dir, 'stdin.sqlite') };
    const points = gzipSync('{"timestamp":1647033600,"total":4096,"free":96,"used":4000}\n');
    const unknown = await runCli(['import', '-'], env, { input: points });
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.equal('Cannot tell the format of standard input: give --format csv, json or lp.\n');
    const run = await runCli(['import', '-', '--format', 'jsonl', '--host', 'piped'], env, { input: points });
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.match(/^Imported 1 point for 1 host from \(standard input\) into SQLite \S+stdin\.sqlite in /);
    const bad = await runCli(['import', '-', '--format', 'csv'], env, { input: Buffer.from('timestamp,total,free,used\n1647033660,8192,x,1\n') });
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.equal('(standard input):2: free is not a whole number of MiB: "x"\n');
    expect(await storedRecords(env.SQLITE_PATH, 'piped')).to.deep.equal([{ timestamp: 1647033600, total: 4096, free: 96, used: 4000 }]);
  });

  it('says how much it stored, and through which line, when the store fails partway', async () => {
    const path = join(dir, 'failing-partway.sqlite');
    const input = new PassThrough();
    input.write(`timestamp,total,free,used\n${Array.from({ length: BATCH_POINTS }, (_, i) => csvLine(i)).join('')}`);
    try {
      const cli = startCli(['import', '-', '--format', 'csv', '--host', 'partway'], { SQLITE_PATH: path }, { input });
      await waitFor('the first batch stored', async () => (storedCount(path) >= BATCH_POINTS ? true : undefined));
      // The file is replaced by one that is no database (its WAL and shared memory gone with it):
      // the store follows the path, as it does a restored backup, and fails at the next batch.
      await writeNotADatabase(`${path}.next`);
      await rm(`${path}-wal`, { force: true });
      await rm(`${path}-shm`, { force: true });
      await rename(`${path}.next`, path);
      input.end(Array.from({ length: 10 }, (_, i) => csvLine(BATCH_POINTS + i)).join(''));
      const [code] = (await once(cli.child, 'close')) as [number | null];
      expect(code, cli.stderr()).to.equal(3);
      // The header is line 1: the first batch's points are lines 2 to 5,001.
      expect(cli.stderr()).to.equal(
        `Import stopped: SQLite store unavailable (SQLITE_NOTADB: file is not a database). ${BATCH_POINTS.toLocaleString('en')} points of (standard input) stored, through its line ${(BATCH_POINTS + 1).toLocaleString('en')}; importing again is safe.\n`,
      );
    } finally {
      input.end();
    }
  });

  it('stops reading standard input when the store fails, rather than wait for the rest of it', async () => {
    const notAFile = join(dir, 'a-directory.sqlite');
    await mkdir(notAFile);
    const input = new PassThrough();
    // More than a batch, so the store is opened and fails while the input is still open.
    input.write(`timestamp,total,free,used\n${Array.from({ length: 6_000 }, (_, i) => csvLine(i)).join('')}`);
    try {
      const cli = startCli(['import', '-', '--format', 'csv'], { SQLITE_PATH: notAFile }, { input });
      // A bound on a hang, not a speed: the process ends at once or waits for ever.
      const hung = setTimeout(() => cli.child.kill('SIGKILL'), 20_000);
      const [code, signal] = (await once(cli.child, 'close')) as [number | null, string | null];
      clearTimeout(hung);
      expect(signal, 'still waiting for the rest of standard input').to.equal(null);
      expect(code, cli.stderr()).to.equal(3);
      expect(cli.stderr()).to.match(/^Import stopped: .*importing again is safe\.\n$/);
    } finally {
      input.end();
    }
  });

  describe('interrupted by a signal', () => {
    const SUMMARY = /^Imported ([\d,]+) points for 1 host from .*; interrupted by (SIG\w+), the rest of .* not read \(importing again is safe\)\.\n$/;
    // SIGHUP: the terminal it was started from closing.
    for (const [signal, exitCode] of [['SIGINT', 130], ['SIGHUP', 129]] as const) {
      it(`stores what it read from standard input left open, says so, and exits ${exitCode} on ${signal}`, async () => {
        const path = join(dir, `interrupted-stdin-${signal}.sqlite`);
        const input = new PassThrough();
        // A batch and more: the first is stored while standard input stays open; the rest waits in the import.
        input.write(`timestamp,total,free,used\n${Array.from({ length: BATCH_POINTS + 2_000 }, (_, i) => csvLine(i)).join('')}`);
        try {
          const cli = startCli(['import', '-', '--format', 'csv', '--host', 'piped'], { SQLITE_PATH: path }, { input });
          await waitFor('the first batch stored', async () => (storedCount(path) >= BATCH_POINTS ? true : undefined));
          cli.child.kill(signal);
          const [code] = (await once(cli.child, 'close')) as [number | null];
          expect(code, cli.stderr()).to.equal(exitCode);
          const [, points, summarySignal] = SUMMARY.exec(cli.stdout()) ?? [];
          expect(summarySignal, cli.stdout()).to.equal(signal);
          expect(storedCount(path), 'stored as the summary says').to.equal(Number(points!.replaceAll(',', '')));
        } finally {
          input.end();
        }
      });
    }

    // Reading a SQLite file and writing to SQLite never wait, so only a turn of the event loop lets the signal in.
    it("stops a SQLite file's import partway on SIGTERM, and exits 143", async () => {
      const source = join(dir, 'interrupted-source.sqlite');
      const db = new Database(source);
      db.exec('CREATE TABLE memory_log (id INTEGER PRIMARY KEY, timestamp INTEGER NOT NULL, total INTEGER, free INTEGER, used INTEGER)');
      const insert = db.prepare('INSERT INTO memory_log (timestamp, total, free, used) VALUES (?, 8192, 2048, 6144)');
      db.transaction(() => {
        for (let i = 0; i < 1_000_000; i++) insert.run(1_000_000_000 + 60 * i);
      })();
      db.close();
      const path = join(dir, 'interrupted-target.sqlite');
      const cli = startCli(['import', source, '--host', 'legacy'], { SQLITE_PATH: path });
      await waitFor('the first batch stored', async () => (storedCount(path) >= BATCH_POINTS ? true : undefined), 30_000);
      cli.child.kill('SIGTERM');
      const [code] = (await once(cli.child, 'close')) as [number | null];
      expect(code, cli.stdout()).to.equal(143);
      const [, points, signal] = SUMMARY.exec(cli.stdout()) ?? [];
      expect(signal, cli.stdout()).to.equal('SIGTERM');
      const stored = storedCount(path);
      expect(stored, 'stored as the summary says').to.equal(Number(points!.replaceAll(',', '')));
      expect(stored).to.be.below(1_000_000);
    });
  });

  it("imports the original service's SQLite database (its memory_log table), whatever the file's name", async () => {
    const original = join(dir, 'original.db');
    const db = new Database(original);
    db.exec('CREATE TABLE memory_log (id INTEGER PRIMARY KEY, timestamp INTEGER NOT NULL, total INTEGER, free INTEGER, used INTEGER)');
    const insert = db.prepare('INSERT INTO memory_log (timestamp, total, free, used) VALUES (?, ?, ?, ?)');
    for (const row of [
      [1647033600, 8192, 2048, 6144],
      [1647033700, 8192, 1024, 7168],
      [1647033800, null, 1000, 7192],
      [1647033900, 8192.0, 1000, 7192],
    ]) {
      insert.run(...row);
    }
    db.close();
    const env = { SQLITE_PATH: join(dir, 'from-original.sqlite') };
    const run = await runCli(['import', original, '--host', 'legacy'], env);
    expect(run.code, run.stderr).to.equal(1);
    expect(run.stderr).to.equal(`${original}:3: total is not a whole number of MiB: null\n`);
    expect(run.stdout).to.match(/^Imported 3 points for 1 host from \S+original\.db into SQLite \S+ in [\d.]+ s: 4 rows, 1 bad, 0 skipped\.\n$/);
    expect(await storedRecords(env.SQLITE_PATH, 'legacy')).to.deep.equal([
      { timestamp: 1647033600, total: 8192, free: 2048, used: 6144 },
      { timestamp: 1647033700, total: 8192, free: 1024, used: 7168 },
      { timestamp: 1647033900, total: 8192, free: 1000, used: 7192 },
    ]);
  });

  it("carries the embedded store's history, every host, into a real influxd", async function () {
    const influx = await sharedInflux(this);
    const config = influx.storeConfig();
    const path = join(dir, 'embedded.sqlite');
    const embedded = SqliteStore.open({ kind: 'sqlite', path, timeoutMs: 1_000 });
    const points = ['web-1', 'db 2'].flatMap((host, h) =>
      Array.from({ length: 7_000 }, (_, i) => ({ host, timestamp: 1_647_033_600 + 60 * i, total: 16_384, free: 1_000 + i + h, used: 15_384 - i - h })),
    );
    await embedded.write(points);
    await embedded.close();
    const run = await runCli(['import', path], { STORE: 'influxdb', INFLUX_URL: config.url, INFLUX_DATABASE: config.database });
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.include('Imported 14,000 points for 2 hosts from');
    expect(run.stdout).to.include('14,000 rows, 0 bad, 0 skipped.');
    const store = new InfluxStore(config);
    for (const host of ['web-1', 'db 2']) {
      const expected = points.filter((point) => point.host === host).map(({ host: _, ...record }) => record);
      expect(await listRecords(store, { host, limit: 99_999, skip: 0 }), host).to.deep.equal(expected);
    }
    await store.close();
  });

  it("reads the embedded store's file from a directory it may not write (a read-only mount), through a copy it then removes", async () => {
    // Root writes anywhere: the import then runs as nobody, as a container's user would.
    const user = process.getuid?.() === 0 ? { uid: 65_534, gid: 65_534 } : undefined;
    const shared = await mkdtemp(join(tmpdir(), 'mt-import-ro-'));
    try {
      const [readOnly, writable, temporary] = ['ro', 'out', 'tmp'].map((name) => join(shared, name)) as [string, string, string];
      for (const path of [readOnly, writable, temporary]) await mkdir(path);
      const path = join(readOnly, 'memory-tracker.sqlite');
      const embedded = SqliteStore.open({ kind: 'sqlite', path, timeoutMs: 1_000 });
      await embedded.write([point('ro', 1_647_033_600), point('ro', 1_647_033_660)]);
      await embedded.close();
      await chmod(shared, 0o755);
      await chmod(readOnly, 0o555);
      await chmod(writable, 0o777);
      await chmod(temporary, 0o777);
      const env = { SQLITE_PATH: join(writable, 'copy.sqlite'), TMPDIR: temporary };
      const run = await runCli(['import', path], env, { user });
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stdout).to.include('Imported 2 points for 1 host');
      expect(await readdir(readOnly)).to.deep.equal(['memory-tracker.sqlite']);
      expect(await readdir(temporary), 'the copy is removed').to.deep.equal([]);
      expect(await storedRecords(env.SQLITE_PATH, 'ro')).to.deep.equal([point('ro', 1_647_033_600), point('ro', 1_647_033_660)].map(({ host: _, ...record }) => record));
    } finally {
      await chmod(join(shared, 'ro'), 0o755).catch(() => undefined);
      await rm(shared, { recursive: true, force: true });
    }
  });

  it("refuses the embedded store's own file as input, however its path is spelt, with exit code 2", async () => {
    const path = join(dir, 'itself.sqlite');
    const store = SqliteStore.open({ kind: 'sqlite', path, timeoutMs: 1_000 });
    await store.write([point('itself', 1_647_033_600)]);
    await store.close();
    const link = join(dir, 'itself-link.sqlite');
    await symlink(path, link);
    for (const [file, env] of [
      [path, { SQLITE_PATH: path }],
      [link, { SQLITE_PATH: `${dir}/./itself.sqlite` }],
    ] as const) {
      const run = await runCli(['import', file], env);
      expect(run.code).to.equal(2);
      expect(run.stderr).to.equal(`${file} is the SQLite store this import writes to (SQLITE_PATH): to carry its history to InfluxDB, set STORE=influxdb and INFLUX_URL.\n`);
    }
    // Another store's file is input like any other.
    const other = await runCli(['import', path], { SQLITE_PATH: join(dir, 'itself-copy.sqlite') });
    expect(other.code, other.stderr).to.equal(0);
  });

  it('refuses a SQLite database without a history table with exit code 2, naming its tables, without opening the store', async () => {
    const other = join(dir, 'other.sqlite');
    const db = new Database(other);
    db.exec('CREATE TABLE users (name TEXT); CREATE TABLE memory_log (timestamp INTEGER, total INTEGER)');
    db.close();
    const path = join(dir, 'not-made.sqlite');
    const run = await runCli(['import', other], { SQLITE_PATH: path });
    expect(run.code).to.equal(2);
    expect(run.stderr).to.equal(
      `${other} is a SQLite database without a history table: neither memory_log (timestamp,total,free,used[,host]) nor memory (host,time,total,free,used) (tables: memory_log, users).\n`,
    );
    expect(existsSync(path), `${path} made for nothing`).to.equal(false);
  });

  it('refuses a file whose format it cannot tell, and prints its version and help', async () => {
    const data = join(dir, 'data.bin');
    await writeFile(data, '1647033600 8192\n');
    const unknown = await runCli(['import', data], { SQLITE_PATH: join(dir, 'unknown.sqlite') });
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.equal(`Cannot tell the format of ${data}: give --format csv, json or lp.\n`);
    const wrong = await runCli(['import', data, '--format', 'xml'], { SQLITE_PATH: join(dir, 'unknown.sqlite') });
    expect(wrong.code).to.equal(2);
    expect(wrong.stderr).to.equal('--format takes csv, json, jsonl or lp, not "xml".\n');
    expect(existsSync(join(dir, 'unknown.sqlite'))).to.equal(false);
    expect((await runCli(['--version'], {})).stdout.trim()).to.match(/^\d+\.\d+\.\d+$/);
    expect((await runCli(['--help'], {})).stdout).to.include('import FILE...');
  });
});

/** The `i`-th line of a CSV of minute points, from 2022-03-12. */
function csvLine(i: number): string {
  return `${1_647_033_600 + 60 * i},8192,2048,6144\n`;
}

/** Points the SQLite store at `path` holds, every host (0 before the import made it). */
function storedCount(path: string): number {
  if (!existsSync(path)) return 0;
  const db = new Database(path, { readonly: true });
  try {
    const made = db.prepare<[], number>("SELECT count(*) FROM sqlite_schema WHERE name = 'memory'").pluck().get() === 1;
    return made ? db.prepare<[], number>('SELECT count(*) FROM memory').pluck().get()! : 0;
  } finally {
    db.close();
  }
}
