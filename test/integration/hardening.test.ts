import { expect } from 'chai';
import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApi, type RunningApi } from '../../api/server.js';
import type { InfluxStoreConfig } from '../../config.js';
import { InfluxStore } from '../../storage/influx.js';
import { SqliteStore } from '../../storage/sqlite.js';
import type { MemoryStore } from '../../storage/types.js';
import { testListen } from '../helpers/api.js';
import { startCli } from '../helpers/cli.js';
import { failureOf } from '../helpers/failure.js';
import { JSON_BAD_REQUEST, MALFORMED_REQUESTS, rawExchange, request } from '../helpers/http.js';
import { privateInflux, sharedInflux, type InfluxTarget } from '../helpers/influx-fixture.js';
import { capturingLogger } from '../helpers/logger.js';
import { freePort } from '../helpers/ports.js';
import { writeNotADatabase } from '../helpers/sqlite-files.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import { waitFor } from '../helpers/wait.js';
import { HASHES } from '../unit/api/htpasswd.test.js';

const T0 = 1_647_033_600;
const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('API hardening (real server, real stores)', function () {
  this.timeout(60_000);
  let dir: string;
  let store: MemoryStore;
  const apis: RunningApi[] = [];
  const start = async (api: Parameters<typeof testListen>[0], onStore: MemoryStore = store): Promise<RunningApi> => {
    const running = await startApi(testListen(api), onStore, capturingLogger().logger);
    apis.push(running);
    return running;
  };
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mt-hardening-'));
    store = SqliteStore.open({ kind: 'sqlite', path: join(dir, 'db.sqlite'), timeoutMs: 1_000 });
    await store.write(Array.from({ length: 20 }, (_, i) => ({ host: 'h', timestamp: T0 + i * 60, total: 8_192, free: 2_048, used: 6_144 })));
  });
  after(async () => {
    await Promise.all(apis.map((api) => api.close()));
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  describe('basic auth (the seed\'s USERNAME:HASHED_PASSWORD format)', () => {
    let api: RunningApi;
    before(async () => {
      api = await start({
        basicAuth: { realm: 'memory-tracker', users: Object.entries(HASHES).map(([format, hash]) => ({ user: `user-${format}`, hash })) },
      });
    });

    for (const format of Object.keys(HASHES)) {
      it(`${format}: the right password passes, a wrong one does not`, async () => {
        expect((await request(api.port, 'GET', '/memory-logs/?limit=1', { Authorization: basic(`user-${format}`, 'do') })).status).to.equal(200);
        // Twice: the second answer comes from the remembered credentials.
        expect((await request(api.port, 'GET', '/memory-logs/?limit=1', { Authorization: basic(`user-${format}`, 'do') })).status).to.equal(200);
        expect((await request(api.port, 'GET', '/memory-logs/', { Authorization: basic(`user-${format}`, 'don') })).status).to.equal(401);
      });
    }

    const refused: Array<[string, Record<string, string>]> = [
      ['no credentials', {}],
      ['an unknown user', { Authorization: basic('mallory', 'do') }],
      ['a password of another user', { Authorization: basic('user-apr1', 'x') }],
      ['another scheme', { Authorization: 'Bearer abc' }],
      ['broken base64', { Authorization: 'Basic !!!!' }],
      ['no colon in the credentials', { Authorization: `Basic ${Buffer.from('user-apr1').toString('base64')}` }],
      ['an empty Basic', { Authorization: 'Basic ' }],
    ];
    for (const [name, headers] of refused) {
      it(`${name}: the same 401, with a challenge, whatever was wrong`, async () => {
        const response = await request(api.port, 'GET', '/memory-logs/', headers);
        expect(response.status).to.equal(401);
        expect(response.body).to.equal('{"detail":"Not authenticated."}');
        expect(response.headers['www-authenticate']).to.equal('Basic realm="memory-tracker", charset="UTF-8"');
        expect(response.headers['content-type']).to.equal('application/json');
      });
    }

    it('leaves the health probe open, by whichever spelling of its path', async () => {
      expect((await request(api.port, 'GET', '/healthz')).status).to.equal(200);
      expect((await request(api.port, 'GET', '/%68ealthz')).status).to.equal(200);
    });

    it('guards a route by whichever spelling of its path', async () => {
      expect((await request(api.port, 'GET', '/%6Demory-logs/')).status).to.equal(401);
      expect((await request(api.port, 'GET', '/%6Demory-logs/', { Authorization: basic('user-apr1', 'do') })).status).to.equal(200);
    });
  });

  describe('rate limit', () => {
    it('lets the burst through, then answers 429 with Retry-After, then refills', async () => {
      const api = await start({ rateLimit: { average: 1, periodMs: 1_000, burst: 3 } });
      for (let i = 0; i < 3; i++) expect((await request(api.port, 'GET', '/memory-logs/?limit=1')).status, `request ${i + 1}`).to.equal(200);
      const limited = await request(api.port, 'GET', '/memory-logs/?limit=1');
      expect(limited.status).to.equal(429);
      expect(limited.body).to.equal('{"detail":"Too Many Requests."}');
      expect(limited.headers['retry-after']).to.equal('1');
      expect((await request(api.port, 'GET', '/healthz')).status).to.equal(200);
      await new Promise((resolve) => setTimeout(resolve, 1_050)); // one period: one token
      expect((await request(api.port, 'GET', '/memory-logs/?limit=1')).status).to.equal(200);
      expect((await request(api.port, 'GET', '/memory-logs/?limit=1')).status).to.equal(429);
    });

    it('keys on X-Forwarded-For only behind a trusted proxy', async () => {
      const limit = { average: 1, periodMs: 60_000, burst: 1 };
      const trusting = await start({ rateLimit: limit, trustedProxies: ['127.0.0.1'] });
      const statuses = async (port: number): Promise<number[]> => [
        (await request(port, 'GET', '/memory-logs/', { 'X-Forwarded-For': '198.51.100.1' })).status,
        (await request(port, 'GET', '/memory-logs/', { 'X-Forwarded-For': '198.51.100.2' })).status,
        (await request(port, 'GET', '/memory-logs/', { 'X-Forwarded-For': '198.51.100.1' })).status,
      ];
      expect(await statuses(trusting.port)).to.deep.equal([200, 200, 429]);
      const doubting = await start({ rateLimit: limit });
      expect(await statuses(doubting.port)).to.deep.equal([200, 429, 429]);
    });
  });

  describe('requests as they come on the wire, to one API', () => {
    let api: RunningApi;
    before(async () => {
      api = await start({});
    });
    /** The answer's end for `/memory-logs/?limit=1`: the newest point. */
    const NEWEST = `\r\n\r\n[{"timestamp":${T0 + 19 * 60},"total":8192,"free":2048,"used":6144}]`;

    for (const [what, raw] of MALFORMED_REQUESTS) {
      it(`answers ${what} with a JSON 400, and closes the connection`, async () => {
        const answer = await rawExchange(api.port, raw);
        expect(answer).to.match(JSON_BAD_REQUEST);
        expect(answer).to.match(/\r\nConnection: close\r\n/i);
      });
    }

    it('answers CONNECT, which Node hands no request handler, with a JSON 405', async () => {
      const answer = await rawExchange(api.port, 'CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n');
      expect(answer).to.match(/^HTTP\/1\.1 405 /);
      expect(answer).to.match(/\r\nAllow: GET, HEAD\r\n/);
      expect(answer.endsWith('\r\n\r\n{"detail":"Method Not Allowed."}')).to.equal(true);
    });

    it('ignores an expectation other than 100-continue, as the original did, rather than answering 417', async () => {
      const answer = await rawExchange(api.port, 'GET /memory-logs/?limit=1 HTTP/1.1\r\nHost: x\r\nExpect: bogus\r\nConnection: close\r\n\r\n');
      expect(answer).to.match(/^HTTP\/1\.1 200 /);
      expect(answer.endsWith(NEWEST)).to.equal(true);
    });

    it('serves an HTTP/1.0 request without Host, which HTTP/1.0 does not require', async () => {
      const answer = await rawExchange(api.port, 'GET /memory-logs/?limit=1 HTTP/1.0\r\n\r\n');
      expect(answer).to.match(/^HTTP\/1\.1 200 /);
      expect(answer.endsWith(NEWEST)).to.equal(true);
    });

    it('answers oversized headers with a JSON 431', async () => {
      const response = await request(api.port, 'GET', '/memory-logs/', { 'X-Padding': 'x'.repeat(17_000) });
      expect(response.status).to.equal(431);
      expect(response.body).to.equal('{"detail":"Request Header Fields Too Large."}');
    });
  });

  it('answers 503 while InfluxDB is down, and 200 again once it is back', async function () {
    const influx = await privateInflux(this);
    const influxStore = new InfluxStore({ ...influx.storeConfig(), timeoutMs: 2_000 });
    try {
      await influxStore.write([{ host: 'h', timestamp: Math.floor(Date.now() / 1_000), total: 8_192, free: 2_048, used: 6_144 }]);
      const api = await start({}, influxStore);
      expect((await request(api.port, 'GET', '/memory-logs/')).status).to.equal(200);
      await influx.stop();
      const down = await request(api.port, 'GET', '/memory-logs/');
      expect(down.status).to.equal(503);
      expect(down.body).to.equal('{"detail":"Service unavailable."}');
      expect(down.headers['retry-after']).to.equal('5');
      await influx.resume();
      const back = await waitFor('the API to recover', async () => {
        const response = await request(api.port, 'GET', '/memory-logs/');
        return response.status === 200 ? response : undefined;
      });
      expect(JSON.parse(back.body)).to.have.length(1);
    } finally {
      await influx.destroy();
    }
  });

  describe('a streamed page whose store fails after it began', () => {
    const PAGE = '/memory-logs/?host=cut-short&limit=99999';
    let influx: InfluxTarget;
    let config: InfluxStoreConfig;
    before(async function () {
      influx = await sharedInflux(this);
      config = influx.storeConfig({ timeoutMs: 1_000 });
      // A page the API streams from InfluxDB's chunked answer, of about 6 MB: more than
      // the sockets on its way hold, so that a client that stops reading stops the API's reads.
      await new InfluxStore(config).write(
        Array.from({ length: 99_999 }, (_, i) => ({ host: 'cut-short', timestamp: T0 + i * 60, total: 8_192, free: 2_048, used: 6_144 })),
      );
    });

    const ways = [
      { way: 'dies', by: 'closing', cause: "InfluxDB's answer broke off (aborted)" },
      { way: 'hangs past STORE_TIMEOUT', by: 'stalling', cause: 'InfluxDB sent nothing more of a page for 1000 ms (STORE_TIMEOUT)' },
    ] as const;
    for (const { way, by, cause } of ways) {
      it(`InfluxDB ${way} mid-answer: the client's answer is broken off, and it is one error line with the request's id, and counted`, async () => {
        // InfluxDB's answers stop 64 KiB into a connection.
        const breaking = await startTcpProxy(Number(new URL(influx.url).port), { breakAfter: { bytes: 64 * 1024, by } });
        const breakingStore = new InfluxStore({ ...config, url: `http://127.0.0.1:${breaking.port}` });
        const { logger, lines } = capturingLogger();
        const api = await startApi(testListen(), breakingStore, logger);
        apis.push(api);
        try {
          // A small page goes whole through the same proxy.
          expect(JSON.parse((await request(api.port, 'GET', '/memory-logs/?host=cut-short&limit=10')).body)).to.have.length(10);
          const broken = (await failureOf(request(api.port, 'GET', PAGE))) as NodeJS.ErrnoException;
          expect(broken.code, 'the client cannot take the rows it got for a whole page').to.equal('ECONNRESET');
          const cut = await waitFor('the error line', async () => lines().find((line) => line.msg === 'page cut short: the store failed after its answer began, and the client got it broken off'));
          const access = await waitFor('the access line', async () => lines().find((line) => line.msg === 'request' && line.url === PAGE));
          expect(cut).to.deep.include({ level: 50, requestId: access.requestId, url: PAGE });
          // Written once the connection closed, and whole.
          expect(access).to.deep.include({ status: 200, remoteAddress: '127.0.0.1' });
          expect(cut.err).to.deep.include({ code: 'PAGE_CUT_SHORT', message: `the store failed after the page's answer began: ${cause}` });
          expect(lines().filter((line) => line.msg === cut.msg || line.msg === 'client left before its answer was sent')).to.have.length(1);
          expect((await request(api.port, 'GET', '/metrics')).body).to.match(/^memory_tracker_http_pages_cut_short_total 1$/m);
        } finally {
          await breakingStore.close();
          breaking.close();
        }
      });
    }

    it('logs and counts a streamed page whose client left before it began', async () => {
      // InfluxDB's answers held back 400 ms: the client is gone before the page's first piece.
      const slow = await startTcpProxy(Number(new URL(influx.url).port), { delayMs: 400 });
      const slowStore = new InfluxStore({ ...config, url: `http://127.0.0.1:${slow.port}` });
      const { logger, lines } = capturingLogger();
      const api = await startApi(testListen(), slowStore, logger);
      apis.push(api);
      try {
        const socket = connect(api.port, '127.0.0.1');
        socket.write(`GET ${PAGE} HTTP/1.1\r\nHost: x\r\n\r\n`);
        await new Promise((resolve) => setTimeout(resolve, 100));
        socket.destroy();
        const access = await waitFor('the access line', async () => lines().find((line) => line.msg === 'request' && line.url === PAGE));
        expect(access).to.deep.include({ method: 'GET', status: 200 });
        const counted = /^memory_tracker_http_request_duration_seconds_count\{route="\/memory-logs\/",method="GET",status="200"\} 1$/m;
        expect((await request(api.port, 'GET', '/metrics')).body).to.match(counted);
      } finally {
        await slowStore.close();
        slow.close();
      }
    });

    it('a client slower than STORE_TIMEOUT still gets the whole page (only the waits for InfluxDB are bounded), and its access line times all of it', async () => {
      const store = new InfluxStore(config);
      const { logger, lines } = capturingLogger();
      const api = await startApi(testListen(), store, logger);
      apis.push(api);
      try {
        const response = await new Promise<IncomingMessage>((resolve, reject) => httpRequest({ host: '127.0.0.1', port: api.port, path: PAGE, agent: false }, resolve).on('error', reject).end());
        // Nothing read for twice the store's timeout, then the rest.
        response.pause();
        await new Promise((resolve) => setTimeout(resolve, 2_000));
        const body = Buffer.concat(await response.toArray()).toString('utf8');
        expect(JSON.parse(body)).to.have.length(99_999);
        // Its access line times the whole answer, not its start.
        const access = await waitFor('the access line', async () => lines().find((line) => line.msg === 'request' && line.url === PAGE));
        expect(access.durationMs).to.be.at.least(2_000);
        expect(lines().filter((line) => (line.level as number) >= 40)).to.deep.equal([]);
      } finally {
        await store.close();
      }
    });
  });

  it('starts on a SQLite file it cannot open, answers 503, and 200 once the file can be opened', async () => {
    const path = join(dir, 'unopenable', 'memory.sqlite');
    await writeNotADatabase(path);
    const apiPort = await freePort();
    const { child, stdout } = startCli(['serve'], { STORE: 'sqlite', SQLITE_PATH: path, PORT: String(apiPort), BIND_ADDRESS: '127.0.0.1', LOG_LEVEL: 'info' });
    try {
      await waitFor('the API', async () => ((await request(apiPort, 'GET', '/healthz').catch(() => undefined))?.status === 200 ? true : undefined));
      expect(stdout()).to.include('"store not answering at start, answering 503 until it does"');
      const down = await request(apiPort, 'GET', '/memory-logs/');
      expect(down.status).to.equal(503);
      expect(down.body).to.equal('{"detail":"Service unavailable."}');
      await rm(path);
      const back = await request(apiPort, 'GET', '/memory-logs/');
      expect(back.status).to.equal(200);
      expect(back.body).to.equal('[]');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('closes only once a handler whose client has left is done, so the store is not closed under it', async function () {
    const influx = await sharedInflux(this);
    const config = influx.storeConfig();
    await new InfluxStore(config).write([{ host: 'h', timestamp: Math.floor(Date.now() / 1_000), total: 8_192, free: 2_048, used: 6_144 }]);
    const slow = await startTcpProxy(Number(new URL(influx.url).port), { delayMs: 500 });
    const slowStore = new InfluxStore({ ...config, url: `http://127.0.0.1:${slow.port}` });
    const { logger, lines } = capturingLogger();
    const api = await startApi(testListen(), slowStore, logger);
    try {
      const socket = connect(api.port, '127.0.0.1');
      socket.write('GET /memory-logs/ HTTP/1.1\r\nHost: x\r\n\r\n');
      await new Promise((resolve) => setTimeout(resolve, 100));
      socket.destroy();
      await api.close();
      await slowStore.close();
      await new Promise((resolve) => setTimeout(resolve, 700));
      expect(lines().filter((line) => line.msg === 'store unavailable, answering 503')).to.deep.equal([]);
      expect(lines().find((line) => line.msg === 'request')).to.deep.include({ url: '/memory-logs/', status: 200 });
    } finally {
      slow.close();
    }
  });

  /** A `serve` on InfluxDB behind a proxy that holds each exchange 700 ms, with a request in flight through it. */
  async function serveWithRequestInFlight(context: Mocha.Context) {
    const influx = await sharedInflux(context);
    const config = influx.storeConfig();
    await new InfluxStore(config).write([{ host: 'h', timestamp: Math.floor(Date.now() / 1_000), total: 8_192, free: 2_048, used: 6_144 }]);
    const slow = await startTcpProxy(Number(new URL(influx.url).port), { delayMs: 700 });
    const apiPort = await freePort();
    const { child, stdout } = startCli(['serve'], {
      STORE: 'influxdb',
      INFLUX_URL: `http://127.0.0.1:${slow.port}`,
      INFLUX_DATABASE: config.database,
      PORT: String(apiPort),
      BIND_ADDRESS: '127.0.0.1',
      LOG_LEVEL: 'info',
    });
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    const stop = (): void => {
      child.kill('SIGKILL');
      slow.close();
    };
    try {
      await waitFor('the API', async () => ((await request(apiPort, 'GET', '/healthz').catch(() => undefined))?.status === 200 ? true : undefined));
      const inFlight = request(apiPort, 'GET', '/memory-logs/');
      await new Promise((resolve) => setTimeout(resolve, 300));
      return { child, stdout, apiPort, inFlight, exited, stop };
    } catch (error) {
      stop();
      throw error;
    }
  }

  // SIGHUP: the terminal of an `npm start` closing, which Node's default met by ending the process at once.
  for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
    it(`on ${signal} finishes the request in flight, refuses new ones, and exits 0`, async function () {
      const { child, stdout, apiPort, inFlight, exited, stop } = await serveWithRequestInFlight(this);
      try {
        child.kill(signal);
        await waitFor('the shutdown to begin', async () => (stdout().includes(`"signal":"${signal}","msg":"shutting down"`) ? true : undefined));
        // Not served: refused, cut, or 503 on a connection that was already open.
        const late = await request(apiPort, 'GET', '/memory-logs/').then((response) => response.status, (error: NodeJS.ErrnoException) => error.code);
        expect(['ECONNREFUSED', 'ECONNRESET', 503]).to.include(late);
        const answered = await inFlight;
        expect(answered.status).to.equal(200);
        expect(JSON.parse(answered.body)).to.have.length(1);
        expect(await exited).to.deep.equal([0, null]);
      } finally {
        stop();
      }
    });
  }

  it('ends at once at a second stop signal, of another kind, while its clean stop waits for a request', async function () {
    const { child, stdout, inFlight, exited, stop } = await serveWithRequestInFlight(this);
    try {
      const answer = inFlight.then((response) => response.status, (error: NodeJS.ErrnoException) => error.code);
      child.kill('SIGTERM');
      await waitFor('the shutdown to begin', async () => (stdout().includes('"shutting down"') ? true : undefined));
      child.kill('SIGINT');
      expect(await exited, 'the request in flight was still waited for').to.deep.equal([null, 'SIGINT']);
      expect(await answer, 'answered, by a process that had ended').to.equal('ECONNRESET');
    } finally {
      stop();
    }
  });
});
