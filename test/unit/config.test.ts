import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../errors.js';
import { ENV_VARS, loadConfig, parseDuration } from '../../config.js';

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('loadConfig', () => {
  it('has working defaults: SQLite under ./data, port 8000, one-minute samples, a week of spool', () => {
    const config = loadConfig({});
    expect(config.port).to.equal(8000);
    expect(config.store).to.deep.equal({ kind: 'sqlite', path: join('data', 'memory-tracker.sqlite'), timeoutMs: 5_000 });
    expect(config.collector.intervalMs).to.equal(60_000);
    expect(config.collector.timeoutMs).to.equal(48_000);
    expect(config.collector.spoolDir).to.equal(join('data', 'spool'));
    expect(config.collector.spoolMaxPoints).to.equal(7 * 24 * 60);
    expect(config.collector.procRoot).to.equal('/proc');
    expect(Object.isFrozen(config) && Object.isFrozen(config.store)).to.equal(true);
  });

  it('reads the InfluxDB settings', () => {
    const config = loadConfig({ STORE: 'influxdb', INFLUX_URL: 'http://db:8086/', INFLUX_DATABASE: 'mem', INFLUX_TOKEN: 't', COLLECT_INTERVAL: '10s' });
    expect(config.store).to.deep.include({ kind: 'influxdb', url: 'http://db:8086', database: 'mem', token: 't', collectIntervalMs: 10_000 });
  });

  it('reads the InfluxDB read cache: 1 s by default, 0 turns it off, at most a minute', () => {
    expect(loadConfig({ STORE: 'influxdb' }).store).to.deep.include({ readCacheMs: 1_000 });
    expect(loadConfig({ STORE: 'influxdb', INFLUX_READ_CACHE: '0' }).store).to.deep.include({ readCacheMs: 0 });
    expect(loadConfig({ STORE: 'influxdb', INFLUX_READ_CACHE: '0s' }).store).to.deep.include({ readCacheMs: 0 });
    expect(loadConfig({ STORE: 'influxdb', INFLUX_READ_CACHE: '250ms' }).store).to.deep.include({ readCacheMs: 250 });
    expect(loadConfig({ STORE: 'influxdb', INFLUX_API: 'v2', INFLUX_ORG: 'o', INFLUX_TOKEN: 't', INFLUX_READ_CACHE: '5s' }).store).to.deep.include({ readCacheMs: 5_000 });
    expect(problemsOf({ STORE: 'influxdb', INFLUX_READ_CACHE: '2m' })[0]).to.match(/^INFLUX_READ_CACHE: at most 1m/);
    expect(problemsOf({ STORE: 'influxdb', INFLUX_READ_CACHE: 'soon' })[0]).to.match(/^INFLUX_READ_CACHE: expected a duration/);
  });

  it('reads the InfluxDB 2.x settings, the bucket defaulting to the database', () => {
    const config = loadConfig({ STORE: 'influxdb', INFLUX_API: 'v2', INFLUX_ORG: 'acme', INFLUX_TOKEN: 't', INFLUX_DATABASE: 'mem' });
    expect(config.store).to.deep.include({ kind: 'influxdb2', org: 'acme', bucket: 'mem', token: 't' });
    expect(problemsOf({ STORE: 'influxdb', INFLUX_API: 'v2' }).join('\n')).to.include('INFLUX_ORG').and.include('INFLUX_TOKEN');
    expect(problemsOf({ STORE: 'influxdb', INFLUX_API: 'v3' })[0]).to.match(/^INFLUX_API:/);
  });

  it('reads a secret from a *_FILE (Docker secrets)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mt-config-'));
    try {
      const file = join(dir, 'password');
      writeFileSync(file, 's3cret\n');
      const config = loadConfig({ STORE: 'influxdb', INFLUX_USERNAME: 'u', INFLUX_PASSWORD_FILE: file });
      expect(config.store).to.deep.include({ username: 'u', password: 's3cret' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads a *_FILE of up to 1 MiB, and refuses a longer one (a path to a log, to /dev/zero) without reading it all', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mt-config-'));
    try {
      const users = `${'#'.repeat(1024 * 1024 - 100)}\nbob:{SHA}${'A'.repeat(27)}=\n`;
      writeFileSync(join(dir, 'htpasswd'), users);
      writeFileSync(join(dir, 'log'), `${users}#`.padEnd(1024 * 1024 + 1, '#'));
      expect(loadConfig({ BASIC_AUTH_USERS_FILE: join(dir, 'htpasswd') }).api.basicAuth?.users).to.have.length(1);
      expect(problemsOf({ BASIC_AUTH_USERS_FILE: join(dir, 'log') })).to.deep.equal([`BASIC_AUTH_USERS_FILE: cannot read ${join(dir, 'log')} (longer than 1 MiB, which no secret is)`]);
      expect(problemsOf({ STORE: 'influxdb', INFLUX_TOKEN_FILE: '/dev/zero' })).to.deep.equal(['INFLUX_TOKEN_FILE: cannot read /dev/zero (longer than 1 MiB, which no secret is)']);
      expect(problemsOf({ INFLUX_TOKEN_FILE: dir, STORE: 'influxdb' })).to.deep.equal([`INFLUX_TOKEN_FILE: cannot read ${dir} (EISDIR: illegal operation on a directory, read)`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('takes NODE_NAME as the host', () => {
    expect(loadConfig({ NODE_NAME: 'swarm-node-3' }).collector.host).to.equal('swarm-node-3');
  });

  it('rejects a NODE_NAME no store takes as a host, which would have every point dropped from the spool', () => {
    expect(problemsOf({ NODE_NAME: 'rack\\node' })).to.deep.equal(['NODE_NAME: host contains a control character or a backslash, got "rack\\\\node"']);
    expect(problemsOf({ NODE_NAME: 'n'.repeat(256) })).to.deep.equal([`NODE_NAME: host is longer than 255 characters, got "${'n'.repeat(256)}"`]);
  });

  it('lists every problem at once, each naming its variable', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      STORE: 'postgres',
      COLLECT_INTERVAL: 'often',
      SPOOL_MAX_POINTS: '0',
      LOG_LEVEL: 'loud',
      STORE_TIMEOUT: '-1s',
    });
    expect(problems).to.have.length(6);
    for (const name of ['PORT', 'STORE', 'COLLECT_INTERVAL', 'SPOOL_MAX_POINTS', 'LOG_LEVEL', 'STORE_TIMEOUT']) {
      expect(problems.some((problem) => problem.startsWith(`${name}:`)), name).to.equal(true);
    }
  });

  it('rejects contradictory InfluxDB credentials and a bad URL', () => {
    const problems = problemsOf({ STORE: 'influxdb', INFLUX_URL: 'db:8086', INFLUX_USERNAME: 'u', INFLUX_TOKEN: 't' });
    expect(problems.join('\n')).to.include('INFLUX_URL').and.include('INFLUX_USERNAME and INFLUX_PASSWORD').and.include('INFLUX_TOKEN');
  });

  it('rejects an INFLUX_URL that carries credentials, a query or a fragment, without repeating it', () => {
    const cases: Array<[string, string]> = [
      ['http://admin:s3cret@influxdb:8086', 'INFLUX_URL: credentials go in INFLUX_USERNAME and INFLUX_PASSWORD (or INFLUX_TOKEN), not in the URL, which the logs name'],
      ['http://influxdb:8086/?u=admin&p=s3cret', 'INFLUX_URL: expected a base URL, without a query or fragment'],
      ['http://influxdb:8086/#x', 'INFLUX_URL: expected a base URL, without a query or fragment'],
      ['ftp://influxdb:8086', 'INFLUX_URL: expected an http:// or https:// URL, got ftp:'],
    ];
    for (const [url, problem] of cases) expect(problemsOf({ STORE: 'influxdb', INFLUX_URL: url }), url).to.deep.equal([problem]);
    expect(loadConfig({ STORE: 'influxdb', INFLUX_URL: 'https://influx.example.org/influxdb/' }).store).to.have.property('url', 'https://influx.example.org/influxdb');
  });

  it('rejects an in-memory SQLite database, which the collector could never share', () => {
    expect(problemsOf({ SQLITE_PATH: ':memory:' })[0]).to.match(/^SQLITE_PATH:/);
  });

  it('rejects a timeout that would let runs overlap, and sub-second intervals', () => {
    expect(problemsOf({ COLLECT_INTERVAL: '10s', COLLECT_TIMEOUT: '10s' })[0]).to.match(/^COLLECT_TIMEOUT:/);
    expect(problemsOf({ COLLECT_INTERVAL: '1500ms' })[0]).to.match(/^COLLECT_INTERVAL:/);
  });

  it('closes a silent connection after a minute, or after twice STORE_TIMEOUT, and rejects a SEND_TIMEOUT a store wait would outlast', () => {
    expect(loadConfig({}).api.sendTimeoutMs).to.equal(60_000);
    expect(loadConfig({ STORE_TIMEOUT: '45s' }).api.sendTimeoutMs).to.equal(90_000);
    expect(loadConfig({ SEND_TIMEOUT: '10s' }).api.sendTimeoutMs).to.equal(10_000);
    expect(problemsOf({ SEND_TIMEOUT: '5s' })).to.deep.equal([
      'SEND_TIMEOUT: must be longer than STORE_TIMEOUT (5000 ms), which a request may wait for: it would lose its connection before its 503',
    ]);
  });

  it('rejects a duration longer than a timer waits (24d), which would fire at once', () => {
    expect(problemsOf({ STORE_TIMEOUT: '25d', COLLECT_INTERVAL: '30d', RATE_LIMIT_AVERAGE: '1', RATE_LIMIT_PERIOD: '600h' })).to.deep.equal([
      'STORE_TIMEOUT: at most 24d, the longest a timer waits, got "25d"',
      'COLLECT_INTERVAL: at most 24d, the longest a timer waits, got "30d"',
      'RATE_LIMIT_PERIOD: at most 24d, the longest a timer waits, got "600h"',
    ]);
    const longest = loadConfig({ STORE_TIMEOUT: '24d', COLLECT_INTERVAL: '24d' });
    expect([longest.store.timeoutMs, longest.collector.intervalMs]).to.deep.equal([24 * 86_400_000, 24 * 86_400_000]);
  });

  it('reads no variable that ENV_VARS (and so the README) leaves out', () => {
    const read = new Set<string>();
    const spy = new Proxy({ STORE: 'influxdb', INFLUX_API: 'v2', BASIC_AUTH_USERS: '', RATE_LIMIT_AVERAGE: '1' } as Record<string, string>, {
      get(target, name: string) {
        read.add(name);
        return target[name];
      },
    });
    try {
      loadConfig(spy);
    } catch {
      // Problems are expected here: only which names were read matters.
    }
    for (const env of [{}, { STORE: 'influxdb' }]) loadConfig(new Proxy(env as Record<string, string>, { get: (target, name: string) => (read.add(name), target[name]) }));
    const documented = new Set(ENV_VARS.map(({ name }) => name));
    const undocumented = [...read].filter((name) => !documented.has(name.replace(/_FILE$/, '')));
    expect(undocumented).to.deep.equal([]);
    expect(read.size).to.be.greaterThan(20);
  });

  it('states the defaults the code uses: setting a variable to its stated default changes nothing', () => {
    // Everything switched on, so that each variable counts: auth, a rate limit, and InfluxDB for INFLUX_*.
    const sqliteBase = { BASIC_AUTH_USERS: 'user:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=', RATE_LIMIT_AVERAGE: '5' };
    const influxBase = { ...sqliteBase, STORE: 'influxdb' };
    // Prose and derived defaults ("(none)", "$DATA_DIR/spool", "80% of …") are not values to set.
    const literal = ENV_VARS.filter(({ default: fallback }) => /^[^\s()$%]+$/.test(fallback));
    expect(literal.length).to.be.greaterThan(15);
    for (const { name, default: fallback } of literal) {
      const base = name.startsWith('INFLUX_') ? influxBase : sqliteBase;
      expect(loadConfig({ ...base, [name]: fallback }), `${name}=${fallback}`).to.deep.equal(loadConfig(base));
    }
  });

  it('documents every variable in the README, with its default', async () => {
    const { readFile } = await import('node:fs/promises');
    const readme = await readFile(join(process.cwd(), 'README.md'), 'utf8');
    for (const { name, default: fallback } of ENV_VARS) {
      expect(readme, name).to.include(`| \`${name}\` | ${fallback} |`);
    }
  });
});

describe('parseDuration', () => {
  const cases: Array<[string, number | undefined]> = [
    ['1s', 1_000], ['90s', 90_000], ['1m', 60_000], ['2h', 7_200_000], ['1d', 86_400_000], ['250ms', 250],
    ['0s', undefined], ['1', undefined], ['1.5m', undefined], [' 1m', undefined], ['1w', undefined], ['-1s', undefined],
  ];
  for (const [text, ms] of cases) {
    it(`"${text}" -> ${ms}`, () => expect(parseDuration(text)).to.equal(ms));
  }
});
