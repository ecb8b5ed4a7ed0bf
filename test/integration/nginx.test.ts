import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { startApi, type RunningApi } from '../../api/server.js';
import { SqliteStore } from '../../storage/sqlite.js';
import { JSON_BAD_REQUEST, MALFORMED_REQUESTS, rawExchange, request } from '../helpers/http.js';
import { capturingLogger } from '../helpers/logger.js';
import { freePort } from '../helpers/ports.js';
import { startSilentServer } from '../helpers/silent-server.js';
import { requireTool } from '../helpers/tools.js';
import { waitFor } from '../helpers/wait.js';
import { testListen } from '../helpers/api.js';

const TEMPLATE = join(process.cwd(), 'deploy', 'nginx', 'default.conf.template');

/** Debian's nginx with the project's template rendered as the image would render it. */
async function startNginx(upstream: string, edit: (conf: string) => string = (conf) => conf): Promise<{ port: number; stop(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'mt-nginx-'));
  await chmod(dir, 0o777); // workers run as nobody under a root master
  const port = await freePort();
  const site = edit((await readFile(TEMPLATE, 'utf8')).replaceAll('${API_UPSTREAM}', upstream).replaceAll('${NGINX_PORT}', `127.0.0.1:${port}`));
  await writeFile(join(dir, 'site.conf'), site);
  await writeFile(
    join(dir, 'nginx.conf'),
    `daemon off;
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${join(dir, 'body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
  include ${join(dir, 'site.conf')};
}
`,
  );
  const child: ChildProcess = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await waitFor(`nginx on ${port} (${stderr})`, async () => {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr}`);
    return request(port, 'GET', '/nginx-healthz').then(() => true, () => undefined);
  });
  return {
    port,
    async stop() {
      child.kill('SIGQUIT');
      await once(child, 'exit');
      await rm(dir, { recursive: true, force: true });
    },
  };
}

describe('nginx in front of the API (Debian nginx, the project config)', function () {
  this.timeout(30_000);
  const cleanups: Array<() => Promise<void>> = [];
  before(function () {
    requireTool(this, 'nginx', ['-v'], 'REQUIRE_NGINX', 'Debian: apt-get install nginx');
  });
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  describe('with a real API behind it', () => {
    let api: RunningApi;
    let nginx: { port: number };
    before(async () => {
      const dir = await mkdtemp(join(tmpdir(), 'mt-nginx-api-'));
      const store = SqliteStore.open({ kind: 'sqlite', path: join(dir, 'db.sqlite'), timeoutMs: 1_000 });
      await store.write(Array.from({ length: 5 }, (_, i) => ({ host: 'h', timestamp: 1_647_033_600 + i * 60, total: 8_192, free: 2_048, used: 6_144 })));
      // Older than h's: a page of some KiB for the compression tests, h staying the default host.
      await store.write(Array.from({ length: 200 }, (_, i) => ({ host: 'g', timestamp: 1_647_000_000 + i * 60, total: 8_192, free: 2_048 + i, used: 6_144 - i })));
      api = await startApi(testListen(), store, capturingLogger().logger);
      const front = await startNginx(`127.0.0.1:${api.port}`);
      nginx = front;
      cleanups.push(async () => {
        await front.stop();
        await api.close();
        await store.close();
        await rm(dir, { recursive: true, force: true });
      });
    });

    for (const path of ['/memory-logs/?limit=2&skip=1', '/memory-logs/?limit=ten', '/nope', '/memory-logs?limit=1', '/hosts/']) {
      it(`passes ${path} through unchanged`, async () => {
        const [direct, proxied] = [await request(api.port, 'GET', path), await request(nginx.port, 'GET', path)];
        expect(proxied.status).to.equal(direct.status);
        expect(proxied.body).to.equal(direct.body);
        expect(proxied.headers['content-type']).to.equal(direct.headers['content-type']);
        expect(proxied.headers.location).to.equal(direct.headers.location);
      });
    }

    it('passes the API 405 with its Allow header', async () => {
      const proxied = await request(nginx.port, 'DELETE', '/memory-logs/');
      expect(proxied.status).to.equal(405);
      expect(proxied.headers.allow).to.equal('GET, HEAD');
      expect(proxied.body).to.equal('{"detail":"Method Not Allowed."}');
    });

    it("passes a 12 KiB query through to the API's own answer", async () => {
      const path = `/memory-logs/?limit=${'9'.repeat(6_000)}&skip=${'9'.repeat(6_000)}`;
      const [direct, proxied] = [await request(api.port, 'GET', path), await request(nginx.port, 'GET', path)];
      expect(direct.status).to.equal(422);
      expect(proxied.status).to.equal(422);
      expect(proxied.body).to.equal(direct.body);
    });

    it('keeps its own error pages internal: asked from outside, they are a JSON 404 like the API\'s', async () => {
      const [direct, proxied] = [await request(api.port, 'GET', '/.errors/bad-request'), await request(nginx.port, 'GET', '/.errors/bad-request')];
      expect(proxied).to.deep.include({ status: 404, body: direct.body });
      expect(proxied.headers['content-type']).to.equal('application/json');
    });

    it('passes an HTTP/1.0 request without Host (the API asks one of HTTP/1.1, as nginx speaks to it)', async () => {
      const answer = await rawExchange(nginx.port, 'GET /memory-logs/?limit=1 HTTP/1.0\r\n\r\n');
      expect(answer).to.match(/^HTTP\/1\.1 200 /);
      expect(answer.endsWith('\r\n\r\n[{"timestamp":1647033840,"total":8192,"free":2048,"used":6144}]')).to.equal(true);
    });

    it("gzips answers of 1 KiB and more for a client that asks, through the client's own proxy too, into the API's own bytes", async () => {
      for (const path of ['/memory-logs/?host=g&limit=99999', '/docs/swagger-ui-bundle.js']) {
        const direct = await request(api.port, 'GET', path);
        const headerSets: Array<Record<string, string>> = [{ 'Accept-Encoding': 'gzip' }, { 'Accept-Encoding': 'gzip', Via: '1.1 corporate-proxy' }];
        for (const headers of headerSets) {
          const zipped = await request(nginx.port, 'GET', path, headers);
          expect(zipped.headers['content-encoding'], path).to.equal('gzip');
          expect(zipped.headers.vary, path).to.equal('Accept-Encoding');
          expect(zipped.bytes.length, path).to.be.below(direct.bytes.length / 3);
          expect(gunzipSync(zipped.bytes).toString('utf8'), path).to.equal(direct.body);
        }
      }
    });

    it('sends answers under 1 KiB, and any answer to a client that does not ask for gzip, as they are', async () => {
      for (const [path, headers] of [
        ['/memory-logs/?limit=2', { 'Accept-Encoding': 'gzip' }],
        ['/memory-logs/?limit=ten', { 'Accept-Encoding': 'gzip' }],
        ['/memory-logs/?host=g&limit=99999', {}],
      ] as const) {
        const [direct, proxied] = [await request(api.port, 'GET', path), await request(nginx.port, 'GET', path, headers)];
        expect(proxied.headers['content-encoding'], path).to.equal(undefined);
        expect(proxied.body, path).to.equal(direct.body);
      }
    });

    it('does not say its version', async () => {
      expect((await request(nginx.port, 'GET', '/memory-logs/')).headers.server).to.equal('nginx');
    });
  });

  it("ends its idle connections to the API itself, before the API's keep-alive would", async function () {
    const dir = await mkdtemp(join(tmpdir(), 'mt-nginx-idle-'));
    const store = SqliteStore.open({ kind: 'sqlite', path: join(dir, 'db.sqlite'), timeoutMs: 1_000 });
    const api = await startApi(testListen(), store, capturingLogger().logger);
    const front = await startNginx(`127.0.0.1:${api.port}`);
    cleanups.push(async () => {
      await front.stop();
      await api.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    });
    this.timeout(api.server.keepAliveTimeout + 10_000);
    const ended: Array<Promise<'nginx' | 'API'>> = [];
    api.server.on('connection', (socket: Socket) => {
      // 'end' is nginx's FIN; a socket the API's own keep-alive timer closes has none.
      let peerEnded = false;
      socket.on('end', () => (peerEnded = true));
      ended.push(once(socket, 'close').then(() => (peerEnded ? 'nginx' : 'API')));
    });
    expect((await request(front.port, 'GET', '/memory-logs/')).status).to.equal(200);
    expect(ended).to.have.length(1);
    expect(await ended[0]).to.equal('nginx');
  });

  describe('with an upstream that echoes what it received', () => {
    let nginx: { port: number };
    let received: IncomingHttpHeaders[] = [];
    before(async () => {
      const echo: Server = createServer((req, res) => {
        received.push(req.headers);
        res.writeHead(200, { 'Content-Type': 'application/json' }).end('[]');
      });
      await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
      const front = await startNginx(`127.0.0.1:${(echo.address() as { port: number }).port}`);
      nginx = front;
      cleanups.push(async () => {
        await front.stop();
        echo.close();
      });
    });
    beforeEach(() => {
      received = [];
    });

    it('adds X-Forwarded-For, X-Forwarded-Proto, X-Real-IP and a request id, keeping Host', async () => {
      await request(nginx.port, 'GET', '/memory-logs/', { Host: 'logger.example.org' });
      expect(received[0]).to.include({
        host: 'logger.example.org',
        'x-forwarded-for': '127.0.0.1',
        'x-forwarded-proto': 'http',
        'x-real-ip': '127.0.0.1',
      });
      expect(received[0]!['x-request-id']).to.match(/^[0-9a-f]{32}$/);
    });

    it("keeps the scheme and chain of a proxy in front (Traefik's TLS) and a caller's request id", async () => {
      await request(nginx.port, 'GET', '/memory-logs/', { 'X-Forwarded-Proto': 'https', 'X-Forwarded-For': '203.0.113.7', 'X-Request-Id': 'abc-123' });
      expect(received[0]).to.include({ 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.7, 127.0.0.1', 'x-request-id': 'abc-123' });
    });

    it('refuses a body over its limit with a JSON 413', async () => {
      const response = await new Promise<{ status: number; body: string; type?: string }>((resolve, reject) => {
        import('node:http').then(({ request: send }) => {
          const req = send({ host: '127.0.0.1', port: nginx.port, method: 'POST', path: '/memory-logs/', headers: { 'Content-Length': 64 * 1024 } }, (res) => {
            let body = '';
            res.on('data', (chunk: Buffer) => (body += chunk.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: res.headers['content-type'] }));
          });
          req.on('error', reject);
          req.end(Buffer.alloc(64 * 1024));
        }, reject);
      });
      expect(response).to.deep.equal({ status: 413, body: '{"detail":"Request Entity Too Large."}', type: 'application/json' });
      expect(received).to.have.length(0);
    });
  });

  describe('refusing requests before they reach the API, in JSON', () => {
    let nginx: { port: number };
    before(async () => {
      // Nothing listens upstream: every answer here is nginx's own.
      const front = await startNginx(`127.0.0.1:${await freePort()}`);
      nginx = front;
      cleanups.push(() => front.stop());
    });

    it('a request line over 16 KiB: 414', async () => {
      const response = await request(nginx.port, 'GET', `/memory-logs/?limit=${'9'.repeat(17_000)}`);
      expect(response).to.deep.include({ status: 414, body: '{"detail":"URI Too Long."}' });
      expect(response.headers['content-type']).to.equal('application/json');
    });

    it("a header line over 16 KiB: 431, as the API says", async () => {
      const response = await request(nginx.port, 'GET', '/memory-logs/', { 'X-Padding': 'x'.repeat(17_000) });
      expect(response).to.deep.include({ status: 431, body: '{"detail":"Request Header Fields Too Large."}' });
      expect(response.headers['content-type']).to.equal('application/json');
    });

    for (const [what, raw] of MALFORMED_REQUESTS) {
      it(`${what}: 400`, async () => {
        const answer = await rawExchange(nginx.port, raw);
        expect(answer).to.match(JSON_BAD_REQUEST);
      });
    }
  });

  it('answers a JSON 502 when the API is down', async () => {
    const front = await startNginx(`127.0.0.1:${await freePort()}`);
    cleanups.push(() => front.stop());
    const response = await request(front.port, 'GET', '/memory-logs/');
    expect(response.status).to.equal(502);
    expect(response.body).to.equal('{"detail":"Bad Gateway."}');
    expect(response.headers['content-type']).to.equal('application/json');
  });

  it('answers a JSON 504 when the API does not answer in time', async () => {
    const silent = await startSilentServer();
    // The shipped 30 s read timeout, shortened so the test does not wait for it.
    const front = await startNginx(`127.0.0.1:${silent.port}`, (conf) => {
      expect(conf).to.include('proxy_read_timeout 30s;');
      return conf.replace('proxy_read_timeout 30s;', 'proxy_read_timeout 1s;');
    });
    cleanups.push(async () => {
      await front.stop();
      await silent.close();
    });
    const response = await request(front.port, 'GET', '/memory-logs/');
    expect(response.status).to.equal(504);
    expect(response.body).to.equal('{"detail":"Gateway Timeout."}');
    expect(response.headers['content-type']).to.equal('application/json');
  });
});
