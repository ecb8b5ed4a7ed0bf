import { expect } from 'chai';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listRecords } from '../../storage/index.js';
import { InfluxStore } from '../../storage/influx.js';
import { InfluxV2Store } from '../../storage/influx-v2.js';
import { pointsServed, startCli } from '../helpers/cli.js';
import { failureOf } from '../helpers/failure.js';
import { privateInflux, sharedInflux } from '../helpers/influx-fixture.js';
import type { InfluxServer } from '../helpers/influxd.js';
import { freePort } from '../helpers/ports.js';
import { selfSignedCertificate, type TestCertificate } from '../helpers/tls.js';

const point = { host: 'tls', timestamp: 1_700_000_000, total: 8_192, free: 2_048, used: 6_144 };

describe('InfluxDB over TLS (a real influxd serving https, with a certificate of its own CA)', function () {
  this.timeout(60_000);
  let dir: string;
  let certificate: TestCertificate;
  let influx: InfluxServer;
  before(async function () {
    dir = await mkdtemp(join(tmpdir(), 'mt-tls-'));
    certificate = await selfSignedCertificate(this, dir);
    influx = await privateInflux(this, { tls: certificate });
  });
  after(async () => {
    await influx?.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  const untrusted = (url: string): string =>
    `InfluxDB at ${url} presented a TLS certificate from an issuer this process does not trust (self-signed certificate): name the CA's certificate file in NODE_EXTRA_CA_CERTS`;

  it('names a certificate this process does not trust, and the variable that trusts it, rather than "unreachable"', async () => {
    const store = new InfluxStore(influx.storeConfig());
    for (const call of [() => store.write([point]), () => listRecords(store, { limit: 10, skip: 0 }), () => listRecords(store, { limit: 20_000, skip: 0 })]) {
      const error = await failureOf(call());
      expect(error).to.have.property('code', 'STORE_UNAVAILABLE');
      expect(error).to.have.property('message', untrusted(influx.url));
    }
    await store.close();
  });

  it('names it the same way through the InfluxDB 2.x client (INFLUX_API=v2)', async () => {
    const store = new InfluxV2Store({ kind: 'influxdb2', url: influx.url, org: 'o', bucket: 'b', token: 't', timeoutMs: 5_000, collectIntervalMs: 60_000, readCacheMs: 0 });
    for (const call of [() => store.write([point]), () => store.health()]) {
      const error = await failureOf(call());
      expect(error).to.have.property('code', 'STORE_UNAVAILABLE');
      expect(error).to.have.property('message', untrusted(influx.url));
    }
  });

  it('says that an https:// INFLUX_URL names a server that does not answer TLS', async function () {
    const plain = await sharedInflux(this);
    const url = plain.url.replace(/^http:/, 'https:');
    const error = await failureOf(new InfluxStore({ ...plain.storeConfig(), url }).write([point]));
    expect(error).to.have.property('code', 'STORE_UNAVAILABLE');
    expect(error).to.have.property('message', `InfluxDB at ${url} does not answer TLS (wrong version number): check INFLUX_URL's scheme, http:// or https://`);
  });

  it('collects and serves through it once NODE_EXTRA_CA_CERTS names the CA (`all`, as a process: its run threads too)', async () => {
    const apiPort = await freePort();
    const cli = startCli(['all'], {
      NODE_EXTRA_CA_CERTS: certificate.certificatePath,
      STORE: 'influxdb',
      INFLUX_URL: influx.url,
      INFLUX_DATABASE: 'tls',
      COLLECT_INTERVAL: '1s',
      NODE_NAME: 'tls-host',
      DATA_DIR: join(dir, 'service'),
      PORT: String(apiPort),
      BIND_ADDRESS: '127.0.0.1',
      LOG_LEVEL: 'warn',
    });
    const { child } = cli;
    try {
      const records = await pointsServed(cli, apiPort, 2);
      expect(records[1]!.timestamp - records[0]!.timestamp).to.equal(1);
      expect((await fetch(`http://127.0.0.1:${apiPort}/readyz`)).status).to.equal(200);
      expect(cli.stdout() + cli.stderr(), 'no warning or error').to.equal('');
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });
});
