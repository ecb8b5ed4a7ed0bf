import type { InfluxStoreConfig } from '../../config.js';
import { InfluxServer, influxdBinary, uniqueDatabase, type InfluxServerOptions } from './influxd.js';
import { requireTool } from './tools.js';

/** An InfluxDB the tests can write to: the harness's own influxd, or INFLUX_URL. */
export interface InfluxTarget {
  readonly url: string;
  /** A store config on a database of its own. */
  storeConfig(overrides?: Partial<InfluxStoreConfig>): InfluxStoreConfig;
}

let shared: Promise<InfluxServer> | undefined;

/**
 * The shared InfluxDB of this test run: INFLUX_URL when given, else an influxd
 * started on first use. A machine without either skips the suite with a visible
 * message, unless REQUIRE_INFLUXDB=1 (set by CI), where that is a failure.
 */
export async function sharedInflux(context: Mocha.Context): Promise<InfluxTarget> {
  const external = process.env.INFLUX_URL;
  if (external) return externalTarget(external);
  requireInfluxd(context);
  shared ??= InfluxServer.start();
  return shared;
}

/** A private influxd for tests that stop and restart it or configure it (never an external one). */
export async function privateInflux(context: Mocha.Context, options?: InfluxServerOptions): Promise<InfluxServer> {
  requireInfluxd(context);
  return InfluxServer.start(options);
}

export async function stopSharedInflux(): Promise<void> {
  if (shared) await (await shared).destroy();
  shared = undefined;
}

function requireInfluxd(context: Mocha.Context): void {
  requireTool(context, influxdBinary(), ['version'], 'REQUIRE_INFLUXDB', 'Debian: apt-get install influxdb');
}

function externalTarget(url: string): InfluxTarget {
  return {
    url,
    storeConfig: (overrides = {}) => ({
      kind: 'influxdb',
      url,
      database: uniqueDatabase(),
      username: process.env.INFLUX_USERNAME,
      password: process.env.INFLUX_PASSWORD,
      token: process.env.INFLUX_TOKEN,
      timeoutMs: 5_000,
      collectIntervalMs: 60_000,
      readCacheMs: 1_000,
      ...overrides,
    }),
  };
}
