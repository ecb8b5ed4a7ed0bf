import { Validator } from '@seriousme/openapi-schema-validator';
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApi, type RunningApi } from '../../api/server.js';
import { MEMORY_LOGS_QUERY_SCHEMA } from '../../api/validation.js';
import { InfluxStore } from '../../storage/influx.js';
import { SqliteStore } from '../../storage/sqlite.js';
import { VERSION } from '../../version.js';
import { testListen } from '../helpers/api.js';
import { request } from '../helpers/http.js';
import { capturingLogger } from '../helpers/logger.js';
import { freePort } from '../helpers/ports.js';

describe('Operability over HTTP (docs, probes, metrics, logs)', () => {
  let dir: string;
  let store: SqliteStore;
  let api: RunningApi;
  let lines: () => Array<Record<string, unknown>>;
  before(async () => {
    const now = Math.floor(Date.now() / 1_000);
    dir = await mkdtemp(join(tmpdir(), 'mt-ops-'));
    store = SqliteStore.open({ kind: 'sqlite', path: join(dir, 'db.sqlite'), timeoutMs: 1_000 });
    await store.write([{ host: 'h', timestamp: now - 30, total: 8_192, free: 2_048, used: 6_144 }]);
    const captured = capturingLogger();
    lines = captured.lines;
    api = await startApi(testListen(), store, captured.logger, { collectIntervalMs: 60_000 });
  });
  after(async () => {
    await api.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  describe('GET /openapi.json', () => {
    let document: { openapi: string; info: { version: string }; paths: Record<string, { get: { parameters?: Array<{ name: string; schema: object }>; responses: Record<string, unknown> } }> };
    before(async () => {
      document = JSON.parse((await request(api.port, 'GET', '/openapi.json')).body) as typeof document;
    });

    it('is a valid OpenAPI 3.1 document (checked by a maintained validator)', async () => {
      const result = await new Validator().validate(document as unknown as Record<string, unknown>);
      expect(result.errors, JSON.stringify(result.errors)).to.equal(undefined);
      expect(result.valid).to.equal(true);
      expect(document.openapi).to.equal('3.1.0');
      expect(document.info.version).to.equal(VERSION);
    });

    it('takes its parameters from the schema the API validates with', () => {
      const parameters = document.paths['/memory-logs/']!.get.parameters!;
      expect(parameters.map((parameter) => parameter.name)).to.deep.equal(Object.keys(MEMORY_LOGS_QUERY_SCHEMA.properties));
      const { description: _description, ...limit } = MEMORY_LOGS_QUERY_SCHEMA.properties.limit;
      expect(parameters[0]!.schema).to.deep.equal(limit);
    });

    it('documents every endpoint and every error status', () => {
      expect(Object.keys(document.paths)).to.have.members(['/memory-logs/', '/hosts/', '/healthz', '/readyz', '/metrics']);
      expect(Object.keys(document.paths['/memory-logs/']!.get.responses)).to.have.members(['200', '401', '405', '422', '429', '500', '503']);
    });
  });

  it('GET /docs serves Swagger UI from the installed package, pointed at openapi.json beside it', async () => {
    const page = await request(api.port, 'GET', '/docs');
    expect(page.status).to.equal(200);
    expect(page.headers['content-type']).to.equal('text/html; charset=utf-8');
    expect(page.body).to.include("url: 'openapi.json'").and.not.match(/https?:\/\/(?!errors\.pydantic)/);
    const bundle = await request(api.port, 'GET', '/docs/swagger-ui-bundle.js');
    expect(bundle.status).to.equal(200);
    expect(bundle.body.length).to.be.greaterThan(100_000);
  });

  it('GET / serves the chart page with the collection interval and its local scripts', async () => {
    const page = await request(api.port, 'GET', '/');
    expect(page.status).to.equal(200);
    expect(page.body).to.include('<meta name="collect-interval-seconds" content="60">');
    for (const asset of ['assets/uPlot.iife.min.js', 'assets/uPlot.min.css', 'assets/chart.js']) {
      expect(page.body).to.include(`"${asset}"`);
      expect((await request(api.port, 'GET', `/${asset}`)).status, asset).to.equal(200);
    }
  });

  it('GET /readyz: ready when the store answers and the newest point is fresh', async () => {
    const response = await request(api.port, 'GET', '/readyz');
    expect(response.status).to.equal(200);
    expect(JSON.parse(response.body)).to.deep.equal({ status: 'ready', checks: { store: 'ok', freshness: 'ok' } });
  });

  it('GET /readyz: says which check failed', async () => {
    const staleDir = await mkdtemp(join(tmpdir(), 'mt-ops-stale-'));
    const stale = SqliteStore.open({ kind: 'sqlite', path: join(staleDir, 'db.sqlite'), timeoutMs: 1_000 });
    await stale.write([{ host: 'h', timestamp: Math.floor(Date.now() / 1_000) - 600, total: 1, free: 0, used: 1 }]);
    const downConfig = { kind: 'influxdb', url: `http://127.0.0.1:${await freePort()}`, database: 'x', username: undefined, password: undefined, token: undefined, timeoutMs: 500, collectIntervalMs: 60_000, readCacheMs: 0 } as const;
    const down = new InfluxStore(downConfig);
    const staleApi = await startApi(testListen(), stale, capturingLogger().logger, { collectIntervalMs: 60_000 });
    const downApi = await startApi(testListen(), down, capturingLogger().logger);
    // INFLUX_URL naming another HTTP service (here the API itself): it answers 404.
    const elsewhere = new InfluxStore({ ...downConfig, url: `http://127.0.0.1:${api.port}` });
    const elsewhereApi = await startApi(testListen(), elsewhere, capturingLogger().logger);
    try {
      const staleAnswer = await request(staleApi.port, 'GET', '/readyz');
      expect(staleAnswer.status).to.equal(503);
      const { checks } = JSON.parse(staleAnswer.body) as { checks: { store: string; freshness: string } };
      expect(checks.store).to.equal('ok');
      expect(checks.freshness).to.match(/^newest point is 60\d s old \(limit 120 s\)$/);
      const downAnswer = await request(downApi.port, 'GET', '/readyz');
      expect(downAnswer.status).to.equal(503);
      expect(JSON.parse(downAnswer.body)).to.deep.equal({ status: 'not ready', checks: { store: 'unreachable (STORE_UNAVAILABLE)', freshness: 'unknown' } });
      const elsewhereAnswer = await request(elsewhereApi.port, 'GET', '/readyz');
      expect(JSON.parse(elsewhereAnswer.body)).to.deep.equal({ status: 'not ready', checks: { store: 'unreachable (STORE_UNAVAILABLE)', freshness: 'unknown' } });
      const elsewherePage = await request(elsewhereApi.port, 'GET', '/memory-logs/');
      expect(elsewherePage).to.deep.include({ status: 503, body: '{"detail":"Service unavailable."}' });
    } finally {
      await Promise.all([staleApi.close(), downApi.close(), elsewhereApi.close()]);
      await stale.close();
      await rm(staleDir, { recursive: true, force: true });
    }
  });

  it('GET /metrics: requests by route and status, store timings, process metrics', async () => {
    await request(api.port, 'GET', '/memory-logs/?limit=1');
    await request(api.port, 'GET', '/memory-logs/?limit=x');
    const metrics = await request(api.port, 'GET', '/metrics');
    expect(metrics.status).to.equal(200);
    expect(metrics.headers['content-type']).to.match(/^text\/plain/);
    expect(metrics.body).to.match(/memory_tracker_http_request_duration_seconds_count\{route="\/memory-logs\/",method="GET",status="200"\} [1-9]/);
    expect(metrics.body).to.match(/memory_tracker_http_request_duration_seconds_count\{route="\/memory-logs\/",method="GET",status="422"\} [1-9]/);
    expect(metrics.body).to.match(/memory_tracker_store_request_duration_seconds_count\{operation="list",outcome="ok"\} [1-9]/);
    expect(metrics.body).to.include('memory_tracker_process_resident_memory_bytes');
  });

  it('logs one access line per request with its id, and keeps a caller\'s X-Request-Id', async () => {
    const given = await request(api.port, 'GET', '/memory-logs/?limit=1', { 'X-Request-Id': 'trace-42' });
    expect(given.headers['x-request-id']).to.equal('trace-42');
    const made = await request(api.port, 'GET', '/nope');
    expect(made.headers['x-request-id']).to.match(/^[0-9a-f-]{36}$/);
    const access = lines().filter((line) => line.msg === 'request');
    expect(access.find((line) => line.requestId === 'trace-42')).to.deep.include({ method: 'GET', url: '/memory-logs/?limit=1', status: 200 });
    expect(access.find((line) => line.requestId === made.headers['x-request-id'])).to.deep.include({ url: '/nope', status: 404 });
  });
});
