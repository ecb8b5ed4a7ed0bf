import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { startCollector } from '../../collector/scheduler.js';
import { Spool } from '../../collector/spool.js';
import type { InfluxStoreConfig } from '../../config.js';
import { startApi } from '../../api/server.js';
import { listRecords } from '../../storage/index.js';
import { InfluxStore } from '../../storage/influx.js';
import type { MemoryPoint } from '../../storage/types.js';
import { testListen } from '../helpers/api.js';
import { caseDirs } from '../helpers/case-dirs.js';
import { startCli } from '../helpers/cli.js';
import { request } from '../helpers/http.js';
import { privateInflux } from '../helpers/influx-fixture.js';
import type { InfluxCredentials, InfluxServer } from '../helpers/influxd.js';
import { capturingLogger } from '../helpers/logger.js';
import { freePort } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait.js';
import { failureOf } from '../helpers/failure.js';
import { spooledPoints } from '../helpers/spooled.js';

const at = (timestamp: number): MemoryPoint => ({ host: 'h', timestamp, total: 100, free: 40, used: 60 });

describe('InfluxDB refusing the service (a real influxd with authentication on)', function () {
  this.timeout(60_000);
  let influx: InfluxServer;
  const fresh = caseDirs('mt-credentials-');
  before(async function () {
    influx = await privateInflux(this, { auth: true });
  });
  after(async () => {
    await influx?.destroy();
  });

  /** A store config on a database of its own, made by the admin, as `username`. */
  const configAs = async (username: string, password: string): Promise<InfluxStoreConfig> => {
    const config = influx.storeConfig({ username, password, timeoutMs: 2_000 });
    await influx.query(`CREATE DATABASE "${config.database}"`);
    return config;
  };
  /** A user with no rights at all: what a forgotten GRANT leaves. */
  const userWithoutRights = async (): Promise<InfluxCredentials> => {
    const user = { username: `u_${randomBytes(4).toString('hex')}`, password: randomBytes(6).toString('hex') };
    await influx.query(`CREATE USER "${user.username}" WITH PASSWORD '${user.password}'`);
    return user;
  };

  it('a wrong password or none: every call fails STORE_REFUSED, saying what to check; the right one works', async () => {
    const config = await configAs('admin', 'wrong');
    for (const store of [new InfluxStore(config), new InfluxStore({ ...config, username: undefined, password: undefined })]) {
      for (const call of [() => store.health(), () => store.listHosts(), () => listRecords(store, { limit: 10, skip: 0 }), () => store.write([at(60)])]) {
        const error = await failureOf(call());
        expect(error).to.have.property('code', 'STORE_REFUSED');
        expect((error as Error).message).to.match(/^InfluxDB answered 401: .*\(check INFLUX_TOKEN, or INFLUX_USERNAME and INFLUX_PASSWORD/);
      }
    }
    const store = new InfluxStore({ ...config, ...influx.admin });
    await store.health();
    await store.write([at(60)]);
    expect(await listRecords(store, { limit: 10, skip: 0 })).to.have.length(1);
  });

  it('a user without rights on the database: STORE_REFUSED (403) for reads, writes and health', async () => {
    const user = await userWithoutRights();
    const store = new InfluxStore(await configAs(user.username, user.password));
    for (const call of [() => store.health(), () => listRecords(store, { limit: 10, skip: 0 }), () => store.write([at(60)])]) {
      const error = await failureOf(call());
      expect(error).to.have.property('code', 'STORE_REFUSED');
      expect((error as Error).message).to.match(/^InfluxDB answered 403: .*not authorized/);
    }
  });

  it('the API answers 503 and /readyz says refused, then serves as soon as the rights are granted', async () => {
    const user = await userWithoutRights();
    const config = await configAs(user.username, user.password);
    const now = Math.floor(Date.now() / 1_000);
    await new InfluxStore({ ...config, ...influx.admin }).write([at(now)]);
    const { logger, lines } = capturingLogger();
    const api = await startApi(testListen(), new InfluxStore(config), logger);
    try {
      const refused = await request(api.port, 'GET', '/memory-logs/');
      expect([refused.status, refused.body, refused.headers['retry-after']]).to.deep.equal([503, '{"detail":"Service unavailable."}', '5']);
      const logged = lines().find((line) => line.msg === 'store refused the API, answering 503');
      expect(logged).to.include({ level: 50 });
      expect(JSON.stringify(logged)).to.include('not authorized');
      const ready = await request(api.port, 'GET', '/readyz');
      expect(ready.status).to.equal(503);
      expect(JSON.parse(ready.body)).to.deep.equal({ status: 'not ready', checks: { store: 'refused (STORE_REFUSED)', freshness: 'unknown' } });

      await influx.query(`GRANT READ ON "${config.database}" TO "${user.username}"`);
      const served = await request(api.port, 'GET', '/memory-logs/');
      expect([served.status, JSON.parse(served.body)]).to.deep.equal([200, [{ timestamp: now, total: 100, free: 40, used: 60 }]]);
      expect((await request(api.port, 'GET', '/readyz')).status).to.equal(200);
    } finally {
      await api.close();
    }
  });

  it('the collector logs each change of state once (an outage, then a refusal, as an error), and delivers every spooled point once writes are granted', async () => {
    const user = await userWithoutRights();
    const config = { ...(await configAs(user.username, user.password)), collectIntervalMs: 1_000 };
    const dir = fresh();
    const spool = new Spool(join(dir, 'spool'), 10_000);
    const { logger, lines } = capturingLogger();
    const messages = (): string[] => lines().map((line) => String(line.msg));
    await influx.stop();
    const collector = await startCollector(
      { intervalMs: 1_000, timeoutMs: 800, procRoot: '/proc', host: 'h', spoolDir: join(dir, 'spool'), spoolMaxPoints: 10_000, heartbeatPath: join(dir, 'heartbeat') },
      config,
      logger,
    );
    try {
      await waitFor('the outage logged', async () => (messages().includes('store unreachable, spooling') ? true : undefined));
      await influx.resume();
      await waitFor('the refusal logged', async () => (messages().includes('store refused the collector, spooling') ? true : undefined));
      await waitFor('a refused point spooled after it', async () => (spooledPoints(spool).length >= 2 ? true : undefined));
      const changes = lines().filter((line) => String(line.msg).startsWith('store '));
      expect(changes.map((line) => [line.msg, line.level])).to.deep.equal([
        ['store unreachable, spooling', 40],
        ['store refused the collector, spooling', 50],
      ]);
      expect(String(changes[1]!.reason)).to.match(/^InfluxDB answered 403: .*not authorized/);

      await influx.query(`GRANT WRITE ON "${config.database}" TO "${user.username}"`);
      await waitFor('the spool replayed', async () => (messages().some((msg) => /^replayed \d+ points$/.test(msg)) ? true : undefined));
    } finally {
      await collector.stop();
    }
    const stored = (await listRecords(new InfluxStore({ ...config, ...influx.admin }), { limit: 99_999, skip: 0 })).map((record) => record.timestamp);
    // At least the spooled ticks (the grant may land within the last one's run).
    expect(stored.length).to.be.at.least(2);
    expect(stored).to.deep.equal(stored.map((_, i) => stored[0]! + i), 'one point per tick, none missing, in order');
    expect(spooledPoints(spool)).to.deep.equal([]);
  });

  it('`serve` says at start that InfluxDB refused it, and why, without the password', async () => {
    const apiPort = await freePort();
    const password = `not-it-${randomBytes(4).toString('hex')}`;
    const { child, stdout, stderr } = startCli(['serve'], {
      STORE: 'influxdb',
      INFLUX_URL: influx.url,
      INFLUX_DATABASE: 'memory',
      INFLUX_USERNAME: 'admin',
      INFLUX_PASSWORD: password,
      PORT: String(apiPort),
      BIND_ADDRESS: '127.0.0.1',
      LOG_LEVEL: 'info',
    });
    try {
      const line = await waitFor('the start-up refusal', async () => stdout().split('\n').find((text) => text.includes('store refused the API at start')));
      const logged = JSON.parse(line) as { level: number; err: { message: string } };
      expect(logged.level).to.equal(50);
      expect(logged.err.message).to.match(/^InfluxDB answered 401: /);
      expect(stdout() + stderr()).not.to.include(password);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
