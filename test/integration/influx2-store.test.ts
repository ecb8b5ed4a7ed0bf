import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import type { InfluxV2StoreConfig } from '../../config.js';
import { InfluxV2Store } from '../../storage/influx-v2.js';
import { listRecords } from '../../storage/index.js';
import { freePort } from '../helpers/ports.js';
import { storeContract } from './store-contract.js';
import { failureOf } from '../helpers/failure.js';

const url = process.env.INFLUX2_URL;
const token = process.env.INFLUX2_TOKEN;
const org = process.env.INFLUX2_ORG ?? 'memory-tracker';

const config = (overrides: Partial<InfluxV2StoreConfig>): InfluxV2StoreConfig => ({
  kind: 'influxdb2',
  url: url ?? '',
  org,
  bucket: '',
  token: token ?? '',
  timeoutMs: 10_000,
  collectIntervalMs: 60_000,
  readCacheMs: 1_000,
  ...overrides,
});

/** A store whose server refuses connections: no InfluxDB 2.x needed. */
const openUnreachable = async (): Promise<InfluxV2Store> => new InfluxV2Store(config({ url: `http://127.0.0.1:${await freePort()}`, bucket: 'none', timeoutMs: 1_000 }));

/** A bucket of its own for each store, through the v2 API (deleted with the run's end by retention). */
async function freshBucket(): Promise<string> {
  const headers = { Authorization: `Token ${token}`, 'Content-Type': 'application/json' };
  const orgs = (await (await fetch(`${url}/api/v2/orgs?org=${encodeURIComponent(org)}`, { headers })).json()) as { orgs?: Array<{ id: string }> };
  const orgID = orgs.orgs?.[0]?.id;
  if (orgID === undefined) throw new Error(`INFLUX2_ORG "${org}" not found at ${url}`);
  const name = `test_${randomBytes(6).toString('hex')}`;
  const response = await fetch(`${url}/api/v2/buckets`, { method: 'POST', headers, body: JSON.stringify({ name, orgID, retentionRules: [{ type: 'expire', everySeconds: 86_400 }] }) });
  if (!response.ok) throw new Error(`cannot create a bucket: ${response.status} ${await response.text()}`);
  return name;
}

/**
 * The storage contract against a real InfluxDB 2.x, through the v2 API and Flux.
 * No InfluxDB 2.x can run on this project's machines: this suite runs wherever
 * INFLUX2_URL and INFLUX2_TOKEN (an all-access token of INFLUX2_ORG) are set, and
 * says that it was skipped everywhere else.
 */
describe('InfluxV2Store (a real InfluxDB 2.x, Flux through @influxdata/influxdb-client)', function () {
  this.timeout(120_000);
  before(function () {
    if (url === undefined || token === undefined) {
      console.warn('    SKIPPED: set INFLUX2_URL and INFLUX2_TOKEN (and INFLUX2_ORG) to run the storage contract against InfluxDB 2.x');
      this.skip();
    }
  });

  storeContract({
    open: async (intervalSeconds) => new InfluxV2Store(config({ bucket: await freshBucket(), collectIntervalMs: intervalSeconds * 1_000 })),
    openUnreachable,
  });

  it('a bucket that does not exist: STORE_REFUSED on every call, naming what to check', async () => {
    const store = new InfluxV2Store(config({ bucket: `missing_${randomBytes(6).toString('hex')}` }));
    const calls = [() => store.health(), () => store.write([{ host: 'h', timestamp: 1_700_000_000, total: 8, free: 2, used: 6 }]), () => listRecords(store, { limit: 10, skip: 0 })];
    for (const call of calls) {
      const failure = await failureOf(call());
      expect(failure).to.have.property('code', 'STORE_REFUSED');
      expect((failure as Error).message).to.include("check their names and INFLUX_TOKEN's rights");
    }
  });
});

describe('InfluxV2Store without a server', () => {
  it('fails a write with STORE_UNAVAILABLE and leaves the console alone', async () => {
    const store = await openUnreachable();
    const printed: unknown[] = [];
    const { error, warn } = console;
    console.error = (...args: unknown[]) => printed.push(args);
    console.warn = (...args: unknown[]) => printed.push(args);
    try {
      const failure = await store.write([{ host: 'h', timestamp: 1_700_000_000, total: 8, free: 2, used: 6 }]).catch((caught: unknown) => caught);
      expect(failure).to.have.property('code', 'STORE_UNAVAILABLE');
    } finally {
      console.error = error;
      console.warn = warn;
    }
    expect(printed).to.deep.equal([]);
  });
});
