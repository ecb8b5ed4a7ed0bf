import Database from 'better-sqlite3';
import { expect } from 'chai';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApi, type RunningApi } from '../../api/server.js';
import type { Logger } from '../../log.js';
import { InfluxStore } from '../../storage/influx.js';
import { SqliteStore } from '../../storage/sqlite.js';
import type { MemoryPoint, MemoryStore } from '../../storage/types.js';
import { request } from '../helpers/http.js';
import { capturingLogger } from '../helpers/logger.js';
import { freePort } from '../helpers/ports.js';
import { startSilentServer } from '../helpers/silent-server.js';
import { testListen } from '../helpers/api.js';
import { waitFor } from '../helpers/wait.js';
import { point } from './store-contract.js';

const T0 = 1_647_033_600;
const alpha = (i: number): MemoryPoint => ({ host: 'alpha', timestamp: T0 + i * 100, total: 8_192, free: 8_192 - (1_000 + i), used: 1_000 + i });
const beta = (i: number): MemoryPoint => ({ host: 'beta', timestamp: T0 - 1_000 + i, total: 4_096, free: 96, used: 4_000 });
const ALPHA = Array.from({ length: 30 }, (_, i) => alpha(i));
const BETA = Array.from({ length: 3 }, (_, i) => beta(i));

/** The body for points `from`..`to` (inclusive) of a host, written out by hand. */
function page(points: readonly MemoryPoint[], from: number, to: number): string {
  const items = points.slice(from, to + 1).map((p) => `{"timestamp":${p.timestamp},"total":${p.total},"free":${p.free},"used":${p.used}}`);
  return `[${items.join(',')}]`;
}

const MESSAGES: Record<string, [msg: string, ctx?: string]> = {
  int_parsing: ['Input should be a valid integer, unable to parse string as an integer'],
  int_parsing_size: ['Unable to parse input string as an integer, exceeded maximum size'],
  greater_than: ['Input should be greater than 0', '{"gt":0}'],
  less_than: ['Input should be less than 100000', '{"lt":100000}'],
  greater_than_equal: ['Input should be greater than or equal to 0', '{"ge":0}'],
  string_too_short: ['String should have at least 1 character', '{"min_length":1}'],
};

/** One pydantic 2.6 error item, spelled out key by key in pydantic's order. */
function issue(type: string, field: string, input: string): string {
  const [msg, ctx] = MESSAGES[type]!;
  return (
    `{"type":"${type}","loc":["query","${field}"],"msg":"${msg}","input":${JSON.stringify(input)}` +
    `${ctx ? `,"ctx":${ctx}` : ''},"url":"https://errors.pydantic.dev/2.6/v/${type}"}`
  );
}
const invalid = (...issues: string[]): string => `{"detail":[${issues.join(',')}]}`;

interface Case {
  readonly name: string;
  readonly method?: string;
  readonly path: string;
  readonly status: number;
  readonly body?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

const DIGITS_4300 = '9'.repeat(4_300);
const CASES: Case[] = [
  // The documented contract.
  { name: 'no parameters: the newest 10', path: '/memory-logs/', status: 200, body: page(ALPHA, 20, 29) },
  { name: "the seed README's example", path: '/memory-logs/?limit=10&skip=3', status: 200, body: page(ALPHA, 17, 26) },
  { name: 'limit=1', path: '/memory-logs/?limit=1', status: 200, body: page(ALPHA, 29, 29) },
  { name: 'limit=99999 (the largest)', path: '/memory-logs/?limit=99999', status: 200, body: page(ALPHA, 0, 29) },
  { name: 'a page large enough to be streamed', path: '/memory-logs/?limit=20000&skip=2', status: 200, body: page(ALPHA, 0, 27) },
  { name: 'skip=0 is accepted', path: '/memory-logs/?skip=0', status: 200, body: page(ALPHA, 20, 29) },
  { name: 'fewer points than asked', path: '/memory-logs/?skip=25', status: 200, body: page(ALPHA, 0, 4) },
  { name: 'skip to the very first point', path: '/memory-logs/?skip=29&limit=1', status: 200, body: page(ALPHA, 0, 0) },
  { name: 'skip beyond the data', path: '/memory-logs/?skip=30', status: 200, body: '[]' },
  { name: 'skip beyond 2^63', path: '/memory-logs/?skip=99999999999999999999999', status: 200, body: '[]' },
  { name: 'a repeated parameter takes its last value', path: '/memory-logs/?limit=2&limit=3', status: 200, body: page(ALPHA, 27, 29) },
  { name: 'other-case names are ignored', path: '/memory-logs/?LIMIT=2', status: 200, body: page(ALPHA, 20, 29) },
  { name: 'unknown parameters are ignored', path: '/memory-logs/?foo=bar&limit=1', status: 200, body: page(ALPHA, 29, 29) },
  { name: 'a percent-encoded name', path: '/memory-logs/?li%6Dit=1', status: 200, body: page(ALPHA, 29, 29) },
  { name: 'underscores between digits', path: '/memory-logs/?limit=1_0', status: 200, body: page(ALPHA, 20, 29) },
  { name: 'a zero fraction', path: '/memory-logs/?limit=1.0', status: 200, body: page(ALPHA, 29, 29) },
  { name: 'a bare trailing dot', path: '/memory-logs/?limit=2.', status: 200, body: page(ALPHA, 28, 29) },
  { name: 'a plus sign, encoded', path: '/memory-logs/?limit=%2B3', status: 200, body: page(ALPHA, 27, 29) },
  { name: 'leading zeros', path: '/memory-logs/?limit=0003', status: 200, body: page(ALPHA, 27, 29) },
  { name: 'another host', path: '/memory-logs/?host=beta', status: 200, body: page(BETA, 0, 2) },
  { name: 'an unknown host', path: '/memory-logs/?host=nobody', status: 200, body: '[]' },
  { name: 'hosts, newest first', path: '/hosts/', status: 200, body: `[{"host":"alpha","latest_timestamp":${T0 + 2_900}},{"host":"beta","latest_timestamp":${T0 - 998}}]` },
  { name: 'the liveness probe', path: '/healthz', status: 200, body: '{"status":"ok"}' },
  { name: 'HEAD answers like GET, without a body', method: 'HEAD', path: '/memory-logs/', status: 200, body: '' },

  // Validation, byte for byte as pydantic 2.6 words it.
  {
    name: "the seed README's 422 example",
    path: '/memory-logs/?limit=ten',
    status: 422,
    body: '{"detail":[{"type":"int_parsing","loc":["query","limit"],"msg":"Input should be a valid integer, unable to parse string as an integer","input":"ten","url":"https://errors.pydantic.dev/2.6/v/int_parsing"}]}',
  },
  { name: 'an empty value', path: '/memory-logs/?limit=', status: 422, body: invalid(issue('int_parsing', 'limit', '')) },
  { name: 'a name without a value', path: '/memory-logs/?limit', status: 422, body: invalid(issue('int_parsing', 'limit', '')) },
  { name: 'a fraction', path: '/memory-logs/?limit=1.5', status: 422, body: invalid(issue('int_parsing', 'limit', '1.5')) },
  { name: 'an exponent', path: '/memory-logs/?limit=1e3', status: 422, body: invalid(issue('int_parsing', 'limit', '1e3')) },
  { name: 'hexadecimal', path: '/memory-logs/?limit=0x10', status: 422, body: invalid(issue('int_parsing', 'limit', '0x10')) },
  { name: 'inf', path: '/memory-logs/?limit=inf', status: 422, body: invalid(issue('int_parsing', 'limit', 'inf')) },
  { name: 'true', path: '/memory-logs/?limit=true', status: 422, body: invalid(issue('int_parsing', 'limit', 'true')) },
  { name: 'a list', path: '/memory-logs/?limit=%5B1%5D', status: 422, body: invalid(issue('int_parsing', 'limit', '[1]')) },
  { name: 'Arabic-Indic digit', path: '/memory-logs/?limit=%D9%A3', status: 422, body: invalid(issue('int_parsing', 'limit', '٣')) },
  { name: 'a full-width digit', path: '/memory-logs/?limit=%EF%BC%95', status: 422, body: invalid(issue('int_parsing', 'limit', '５')) },
  { name: 'a leading space is not trimmed', path: '/memory-logs/?limit=%201', status: 422, body: invalid(issue('int_parsing', 'limit', ' 1')) },
  { name: 'a trailing plus (a space)', path: '/memory-logs/?limit=1+', status: 422, body: invalid(issue('int_parsing', 'limit', '1 ')) },
  { name: 'a double underscore', path: '/memory-logs/?limit=1__0', status: 422, body: invalid(issue('int_parsing', 'limit', '1__0')) },
  { name: 'a leading underscore', path: '/memory-logs/?limit=_1', status: 422, body: invalid(issue('int_parsing', 'limit', '_1')) },
  { name: 'a broken escape stays literal', path: '/memory-logs/?limit=%ZZ', status: 422, body: invalid(issue('int_parsing', 'limit', '%ZZ')) },
  { name: 'invalid UTF-8 becomes U+FFFD', path: '/memory-logs/?limit=%FF', status: 422, body: invalid(issue('int_parsing', 'limit', '\uFFFD')) },
  { name: 'zero', path: '/memory-logs/?limit=0', status: 422, body: invalid(issue('greater_than', 'limit', '0')) },
  { name: 'minus zero', path: '/memory-logs/?limit=-0', status: 422, body: invalid(issue('greater_than', 'limit', '-0')) },
  { name: 'zero with a zero fraction', path: '/memory-logs/?limit=0.0', status: 422, body: invalid(issue('greater_than', 'limit', '0.0')) },
  { name: 'negative', path: '/memory-logs/?limit=-5', status: 422, body: invalid(issue('greater_than', 'limit', '-5')) },
  { name: '100000', path: '/memory-logs/?limit=100000', status: 422, body: invalid(issue('less_than', 'limit', '100000')) },
  { name: 'beyond 64 bits is a bound error, not a parse error', path: '/memory-logs/?limit=99999999999999999999', status: 422, body: invalid(issue('less_than', 'limit', '99999999999999999999')) },
  { name: '4,300 digits are parsed', path: `/memory-logs/?limit=${DIGITS_4300}`, status: 422, body: invalid(issue('less_than', 'limit', DIGITS_4300)) },
  { name: '4,301 digits are too many', path: `/memory-logs/?limit=${DIGITS_4300}9`, status: 422, body: invalid(issue('int_parsing_size', 'limit', `${DIGITS_4300}9`)) },
  { name: 'a negative skip', path: '/memory-logs/?skip=-1', status: 422, body: invalid(issue('greater_than_equal', 'skip', '-1')) },
  { name: 'a word for skip', path: '/memory-logs/?skip=abc', status: 422, body: invalid(issue('int_parsing', 'skip', 'abc')) },
  { name: 'two errors at once, limit first', path: '/memory-logs/?skip=-1&limit=ten', status: 422, body: invalid(issue('int_parsing', 'limit', 'ten'), issue('greater_than_equal', 'skip', '-1')) },
  { name: 'two bound errors at once', path: '/memory-logs/?limit=0&skip=-3', status: 422, body: invalid(issue('greater_than', 'limit', '0'), issue('greater_than_equal', 'skip', '-3')) },
  { name: 'the last of repeated values is validated', path: '/memory-logs/?limit=5&limit=x', status: 422, body: invalid(issue('int_parsing', 'limit', 'x')) },
  { name: 'an empty host', path: '/memory-logs/?host=', status: 422, body: invalid(issue('string_too_short', 'host', '')) },

  // Routing.
  { name: 'no trailing slash redirects, keeping the query', path: '/memory-logs?limit=5&skip=1', status: 307, body: '', headers: { location: 'memory-logs/?limit=5&skip=1' } },
  { name: 'no trailing slash, no query', path: '/memory-logs', status: 307, body: '', headers: { location: 'memory-logs/' } },
  { name: 'hosts without its slash', path: '/hosts', status: 307, body: '', headers: { location: 'hosts/' } },
  { name: 'a trailing slash a route lacks', path: '/healthz/?a=1', status: 307, body: '', headers: { location: '../healthz?a=1' } },
  { name: 'trailing slashes a route lacks', path: '/docs/swagger-ui.css//', status: 307, body: '', headers: { location: '../../../docs/swagger-ui.css' } },
  { name: 'another method, slash missing', method: 'POST', path: '/memory-logs', status: 307, body: '', headers: { location: 'memory-logs/' } },
  { name: 'a slash too many on a slashed route', path: '/memory-logs//', status: 404, body: '{"detail":"Not Found."}' },
  { name: 'a percent-encoded path is matched decoded', path: '/%6Demory-logs/?limit=1', status: 200, body: page(ALPHA, 29, 29) },
  { name: 'an encoded slash', path: '/memory-logs%2F?limit=1', status: 200, body: page(ALPHA, 29, 29) },
  { name: 'an encoded path without its slash', path: '/memory%2Dlogs?limit=1', status: 307, body: '', headers: { location: 'memory-logs/?limit=1' } },
  { name: 'an encoded question mark is part of the path', path: '/memory-logs%3F?limit=1', status: 404, body: '{"detail":"Not Found."}' },
  { name: 'a broken escape in the path', path: '/memory-logs/%ZZ', status: 404, body: '{"detail":"Not Found."}' },
  { name: 'an unknown path', path: '/nope', status: 404, body: '{"detail":"Not Found."}' },
  { name: 'a path below the route', path: '/memory-logs/extra', status: 404, body: '{"detail":"Not Found."}' },
  { name: 'paths are case-sensitive', path: '/MEMORY-LOGS/', status: 404, body: '{"detail":"Not Found."}' },
  { name: 'another method on an unknown path', method: 'POST', path: '/nope', status: 404, body: '{"detail":"Not Found."}' },
  { name: 'POST', method: 'POST', path: '/memory-logs/', status: 405, body: '{"detail":"Method Not Allowed."}', headers: { allow: 'GET, HEAD' } },
  { name: 'DELETE', method: 'DELETE', path: '/memory-logs/', status: 405, body: '{"detail":"Method Not Allowed."}', headers: { allow: 'GET, HEAD' } },
  { name: 'OPTIONS', method: 'OPTIONS', path: '/memory-logs/', status: 405, body: '{"detail":"Method Not Allowed."}', headers: { allow: 'GET, HEAD' } },
  { name: 'PUT on hosts', method: 'PUT', path: '/hosts/', status: 405, body: '{"detail":"Method Not Allowed."}', headers: { allow: 'GET, HEAD' } },
];

describe('GET /memory-logs/ over HTTP (real server, real SQLite)', () => {
  let dir: string;
  let store: MemoryStore;
  let api: RunningApi;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mt-api-'));
    store = SqliteStore.open({ kind: 'sqlite', path: join(dir, 'api.sqlite'), timeoutMs: 1_000 });
    await store.write([...ALPHA, ...BETA]);
    api = await startApi(testListen(), store, capturingLogger().logger);
  });
  after(async () => {
    await api.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  for (const { name, method = 'GET', path, status, body, headers = {} } of CASES) {
    it(`${name}: ${method} ${path.length > 60 ? `${path.slice(0, 60)}…` : path} -> ${status}`, async () => {
      const response = await request(api.port, method, path);
      expect(response.status).to.equal(status);
      if (body !== undefined) expect(response.body).to.equal(body);
      for (const [name, value] of Object.entries(headers)) expect(response.headers[name]).to.equal(value);
      if (body !== '') expect(response.headers['content-type']).to.equal('application/json');
      expect(response.headers['x-content-type-options']).to.equal('nosniff');
      expect(response.headers).not.to.have.property('x-powered-by');
      if (status === 200) expect(response.headers['cache-control']).to.equal('no-store');
    });
  }

  it('answers a query string seen before as the first time, and a bad one with its 422 every time', async () => {
    for (let round = 0; round < 3; round++) {
      const good = await request(api.port, 'GET', '/memory-logs/?limit=2&skip=1');
      expect(good.body).to.equal(page(ALPHA, 27, 28));
      const other = await request(api.port, 'GET', '/memory-logs/?limit=2&skip=2');
      expect(other.body).to.equal(page(ALPHA, 26, 27));
      const bad = await request(api.port, 'GET', '/memory-logs/?limit=0');
      expect(bad.status).to.equal(422);
      expect(JSON.parse(bad.body).detail[0]).to.include({ type: 'greater_than', input: '0' });
    }
  });

  it(`covers at least 40 requests (${CASES.length})`, () => {
    expect(CASES.length).to.be.at.least(40);
  });
});

describe('API failures (real servers)', () => {
  const servers: Server[] = [];
  const apis: RunningApi[] = [];
  after(async () => {
    await Promise.all(apis.map((api) => api.close()));
    servers.forEach((server) => server.close());
  });

  const influxAt = (url: string, timeoutMs = 1_000): InfluxStore =>
    new InfluxStore({ kind: 'influxdb', url, database: 'x', username: undefined, password: undefined, token: undefined, timeoutMs, collectIntervalMs: 60_000, readCacheMs: 0 });

  it('a store that is down answers 503 with Retry-After, and logs it', async () => {
    const { logger, lines } = capturingLogger();
    const api = await startApi(testListen(), influxAt(`http://127.0.0.1:${await freePort()}`), logger);
    apis.push(api);
    const response = await request(api.port, 'GET', '/memory-logs/');
    expect(response.status).to.equal(503);
    expect(response.body).to.equal('{"detail":"Service unavailable."}');
    expect(response.headers['retry-after']).to.equal('5');
    expect(lines().some((line) => line.msg === 'store unavailable, answering 503')).to.equal(true);
  });

  it('a store that does not answer in time answers 503, not a hang', async () => {
    const silent = await startSilentServer();
    try {
      const api = await startApi(testListen(), influxAt(silent.url, 300), capturingLogger().logger);
      apis.push(api);
      const response = await request(api.port, 'GET', '/memory-logs/?limit=1');
      expect(response.status).to.equal(503);
      expect(response.body).to.equal('{"detail":"Service unavailable."}');
    } finally {
      await silent.close();
    }
  });

  it('an unexpected failure answers 500 without internals, and logs the stack', async () => {
    // An InfluxDB-compatible endpoint that refuses every query as malformed.
    const refusing = createServer((_, res) => {
      res.writeHead(400, { 'Content-Type': 'application/json' }).end('{"error":"error parsing query: secret internals"}');
    });
    servers.push(refusing);
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    const { port } = refusing.address() as { port: number };
    const { logger, lines } = capturingLogger();
    const api = await startApi(testListen(), influxAt(`http://127.0.0.1:${port}`), logger);
    apis.push(api);
    const response = await request(api.port, 'GET', '/memory-logs/');
    expect(response.status).to.equal(500);
    expect(response.body).to.equal('{"detail":"Internal server error."}');
    expect(response.headers['content-type']).to.equal('application/json');
    const logged = lines().find((line) => line.msg === 'request failed');
    expect(logged?.err).to.have.property('stack').that.includes('secret internals');
  });

  it('resets the connection of a client that stops reading a large page for SEND_TIMEOUT, and ends the page\'s read of SQLite', async () => {
    await withPagesApi(99_999, { listen: { sendTimeoutMs: 1_500 } }, async ({ api, store, checkpoints }) => {
      const socket = connect(api.port, '127.0.0.1');
      try {
        socket.write('GET /memory-logs/?limit=99999 HTTP/1.1\r\nHost: x\r\n\r\n');
        // The first bytes, then nothing read, the connection left open: the page's 6 MB cannot all go out.
        await once(socket, 'data');
        socket.pause();
        // A point written after the page's snapshot: the WAL holds what the page's reader must not see.
        await store.write([minutePoint(99_999)]);
        expect(aReadHoldsTheWal(checkpoints), 'the page reads from its snapshot').to.equal(true);
        await waitFor('the connection to be closed', async () => ((await new Promise<number>((resolve) => api.server.getConnections((_, count) => resolve(count)))) === 0 ? true : undefined));
        await waitFor('the page\'s read to end', async () => (aReadHoldsTheWal(checkpoints) ? undefined : true));
        // Reset, not closed: closed, the kernel would go on holding the rest of the page for
        // the client that reads nothing (FIN-WAIT-1, with a full send queue).
        expect(await kernelSocketsOf(api.port)).to.deep.equal([]);
      } finally {
        socket.destroy();
      }
    });
  });

  it('ends a large page\'s read of SQLite after a HEAD request, whose body is never read', async () => {
    await withPagesApi(12_000, {}, async ({ api, store, checkpoints }) => {
      const head = await request(api.port, 'HEAD', '/memory-logs/?limit=12000');
      expect([head.status, head.headers['content-type'], head.body]).to.deep.equal([200, 'application/json', '']);
      // A point written after the page's snapshot: the WAL holds what the page's reader must not see.
      await store.write([minutePoint(12_000)]);
      await waitFor('the page\'s read to end', async () => (aReadHoldsTheWal(checkpoints) ? undefined : true), 5_000);
    });
  });

  it('answers 503, not a 200 broken off, when the store fails at a large page\'s first piece', async () => {
    await withPagesApi(12_000, {}, async ({ api, checkpoints }) => {
      // All of it in the file itself, none in the WAL: what is written over the file is what a reader finds.
      checkpoints.pragma('wal_checkpoint(TRUNCATE)');
      // The second of the points' pages in time order: the page's first piece reads through it, while
      // finding the page (its newest point, and the oldest of all, as it asks for more than there are) does not.
      const leaves = checkpoints.prepare<[], number>("SELECT pageno FROM dbstat WHERE name = 'memory' AND pagetype = 'leaf' ORDER BY path").pluck().all();
      const pageSize = checkpoints.pragma('page_size', { simple: true }) as number;
      const file = await open(checkpoints.name, 'r+');
      try {
        await file.write(Buffer.alloc(pageSize, 0xff), 0, pageSize, (leaves[1]! - 1) * pageSize);
      } finally {
        await file.close();
      }
      const response = await request(api.port, 'GET', '/memory-logs/?limit=99999');
      expect([response.status, response.body]).to.deep.equal([503, '{"detail":"Service unavailable."}']);
      // The newest points are on pages left whole.
      expect((await request(api.port, 'GET', '/memory-logs/?limit=10')).status).to.equal(200);
    });
  });

  it('a client that hangs up in the middle of a large page is a debug line, not an error', async () => {
    const { logger, lines } = capturingLogger();
    await withPagesApi(99_999, { logger }, async ({ api }) => {
      const socket = connect(api.port, '127.0.0.1');
      socket.write('GET /memory-logs/?limit=99999 HTTP/1.1\r\nHost: x\r\n\r\n');
      // The first bytes, then nothing read and the connection reset: the rest of the page has nowhere to go.
      await once(socket, 'data');
      socket.pause();
      socket.resetAndDestroy();
      await waitFor('the debug line', async () => (lines().some((line) => line.msg === 'client left before its answer was sent') ? true : undefined));
      expect(lines().filter((line) => (line.level as number) >= 50)).to.deep.equal([]);
    });
  });
});

/** The states (as /proc/net/tcp numbers them) of the kernel's TCP sockets on a local port, its listener left out. */
async function kernelSocketsOf(port: number): Promise<string[]> {
  const LISTEN = '0A';
  const table = await readFile('/proc/net/tcp', 'utf8');
  return table
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length > 3 && Number.parseInt(fields[1]!.split(':')[1]!, 16) === port && fields[3] !== LISTEN)
    .map((fields) => fields[3]!);
}

/**
 * Whether a read transaction on the file keeps SQLite from emptying its WAL (which
 * grows meanwhile): a TRUNCATE checkpoint, on a connection that does not wait, says busy.
 */
function aReadHoldsTheWal(checkpoints: Database.Database): boolean {
  return (checkpoints.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>)[0]!.busy === 1;
}

/** The `i`-th of a large page's points: host alpha, a minute apart (`alpha`'s numbers run out past 7,000). */
function minutePoint(i: number): MemoryPoint {
  return point('alpha', T0 + i * 60);
}

/**
 * An API on a SQLite file of `points` minute points, for `use`, with a second
 * connection to the file that checkpoints without waiting; all of it gone after.
 */
async function withPagesApi(
  points: number,
  { listen = {}, logger = capturingLogger().logger }: { listen?: Parameters<typeof testListen>[0]; logger?: Logger },
  use: (context: { api: RunningApi; store: SqliteStore; checkpoints: Database.Database }) => Promise<void>,
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'mt-api-pages-'));
  const path = join(dir, 'api.sqlite');
  const store = SqliteStore.open({ kind: 'sqlite', path, timeoutMs: 1_000 });
  try {
    await store.write(Array.from({ length: points }, (_, i) => minutePoint(i)));
    const api = await startApi(testListen(listen), store, logger);
    const checkpoints = new Database(path, { timeout: 0 });
    try {
      await use({ api, store, checkpoints });
    } finally {
      checkpoints.close();
      await api.close();
    }
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}
