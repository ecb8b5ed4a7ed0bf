import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApi, type RunningApi } from '../../api/server.js';
import { loadConfig } from '../../config.js';
import { checkHealth } from '../../healthcheck.js';
import { SqliteStore } from '../../storage/sqlite.js';
import { testListen } from '../helpers/api.js';
import { capturingLogger } from '../helpers/logger.js';
import { freePort } from '../helpers/ports.js';
import { startSilentServer } from '../helpers/silent-server.js';

describe('API healthcheck (memory-tracker healthcheck api, against a real API)', () => {
  let dir: string;
  let store: SqliteStore;
  const apis: RunningApi[] = [];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mt-healthcheck-'));
    store = SqliteStore.open({ kind: 'sqlite', path: join(dir, 'db.sqlite'), timeoutMs: 1_000 });
  });
  after(async () => {
    for (const api of apis) await api.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  const serve = async (bindAddress: string): Promise<number> => {
    const api = await startApi({ ...testListen(), bindAddress }, store, capturingLogger().logger);
    apis.push(api);
    return api.port;
  };
  const check = (env: Record<string, string>) => checkHealth('api', loadConfig(env));

  for (const bindAddress of ['0.0.0.0', '127.0.0.2']) {
    it(`is healthy when the API listens on BIND_ADDRESS=${bindAddress}`, async () => {
      const port = await serve(bindAddress);
      expect(await check({ BIND_ADDRESS: bindAddress, PORT: String(port) })).to.deep.equal({ healthy: true, reason: 'GET /healthz answered 200' });
    });
  }

  it('is unhealthy, saying why, when nothing listens', async () => {
    const { healthy, reason } = await check({ BIND_ADDRESS: '127.0.0.1', PORT: String(await freePort()) });
    expect(healthy).to.equal(false);
    expect(reason).to.match(/^GET \/healthz failed: .*ECONNREFUSED/);
  });

  it('is unhealthy when /healthz does not answer within 2 s', async function () {
    this.timeout(10_000);
    const silent = await startSilentServer();
    try {
      expect(await check({ BIND_ADDRESS: '127.0.0.1', PORT: String(silent.port) })).to.deep.equal({ healthy: false, reason: 'GET /healthz failed: no answer within 2 s' });
    } finally {
      await silent.close();
    }
  });
});
