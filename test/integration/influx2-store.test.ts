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

const headers = (): Record<string, string> => ({ Authorization: `Token ${token}`, 'Content-Type': 'application/json' });

/** The buckets this run made, deleted at its end. */
const madeBuckets: string[] = [];

/**
 * A bucket of its own for each store, through the v2 API. Kept for good unless
 * `retentionSeconds` is given: the contract writes points of 2022, which a bucket
 * with any retention drops.
 */
async function freshBucket(retentionSeconds?: number): Promise<string> {
  const orgs = (await (await fetch(`${url}/api/v2/orgs?org=${encodeURIComponent(org)}`, { headers: headers() })).json()) as { orgs?: Array<{ id: string }> };
  const orgID = orgs.orgs?.[0]?.id;
  if (orgID === undefined) throw new Error(`INFLUX2_ORG "${org}" not found at ${url}`);
  const name = `test_${randomBytes(6).toString('hex')}`;
  const retentionRules = retentionSeconds === undefined ? [] : [{ type: 'expire', everySeconds: retentionSeconds }];
  const response = await fetch(`${url}/api/v2/buckets`, { method: 'POST', headers: headers(), body: JSON.stringify({ name, orgID, retentionRules }) });
  if (!response.ok) throw new Error(`cannot create a bucket: ${response.status} ${await response.text()}`);
  madeBuckets.push(((await response.json()) as { id: string }).id);
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
  after(async () => {
    for (const id of madeBuckets.splice(0)) await fetch(`${url}/api/v2/buckets/${id}`, { method: 'DELETE', headers: headers() });
  });

  storeContract({
    open: async (intervalSeconds) => new InfluxV2Store(config({ bucket: await freshBucket(), collectIntervalMs: intervalSeconds * 1_000 })),
    openUnreachable,
  });

  it('takes a write whose oldest points the bucket\'s retention drops as done, saying how many it dropped', async () => {
    const store = new InfluxV2Store(config({ bucket: await freshBucket(3_600) }));
    const now = Math.floor(Date.now() / 1_000);
    const at = (timestamp: number) => ({ host: 'h', timestamp, total: 8, free: 2, used: 6 });
    expect(await store.write([at(now - 7_200), at(now - 60), at(now)])).to.deep.equal({ beyondRetention: 1 });
    expect(await listRecords(store, { limit: 10, skip: 0 })).to.deep.equal([now - 60, now].map((timestamp) => ({ timestamp, total: 8, free: 2, used: 6 })));
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
