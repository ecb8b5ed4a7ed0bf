import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { InfluxStoreConfig } from '../../config.js';
import { freePort } from './ports.js';
import type { TestCertificate } from './tls.js';

/**
 * A private `influxd` (1.x) on a free loopback port with a temporary data dir,
 * started and removed by the tests themselves. It can be stopped and started again
 * on the same port and data, to test outages.
 */
export class InfluxServer {
  private process: ChildProcess | undefined;

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly configPath: string,
    /** With `auth`: an admin user made at start, the only one that can do anything. */
    readonly admin: InfluxCredentials | undefined,
    /** With `tls`: the certificate it serves https with (and only https). */
    readonly tls: TestCertificate | undefined,
  ) {}

  get url(): string {
    return `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  /**
   * `auth` turns InfluxDB's authentication on, as a production server has it;
   * `queryTimeout` sets its own limit on a query's time (none by default), and
   * `maxRowLimit`, `maxSelectBuckets` and `maxSelectSeries` its limits on answers; `tls` serves https
   * with that certificate instead of http (query() then cannot reach it).
   */
  static async start({ auth = false, queryTimeout = '0s', tls, maxRowLimit = 0, maxSelectBuckets = 0, maxSelectSeries = 0 }: InfluxServerOptions = {}): Promise<InfluxServer> {
    const dir = await mkdtemp(join(tmpdir(), 'mt-influxd-'));
    const [httpPort, rpcPort] = [await freePort(), await freePort()];
    const configPath = join(dir, 'influxdb.conf');
    await writeFile(configPath, influxdConfig(dir, httpPort, rpcPort, { auth, queryTimeout, tls, maxRowLimit, maxSelectBuckets, maxSelectSeries }));
    const admin = auth ? { username: 'admin', password: randomBytes(9).toString('hex') } : undefined;
    const server = new InfluxServer(dir, httpPort, configPath, admin, tls);
    await server.resume();
    // With no user yet, InfluxDB takes the first admin's creation without credentials.
    if (admin) await server.query(`CREATE USER "${admin.username}" WITH PASSWORD '${admin.password}' WITH ALL PRIVILEGES`);
    return server;
  }

  /** Runs InfluxQL as the admin (if any), in `database` if given; throws unless every statement succeeded. */
  async query(text: string, database?: string): Promise<void> {
    const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded' };
    if (this.admin) headers.Authorization = `Basic ${Buffer.from(`${this.admin.username}:${this.admin.password}`).toString('base64')}`;
    const response = await fetch(`${this.url}/query`, { method: 'POST', headers, body: new URLSearchParams({ q: text, ...(database === undefined ? {} : { db: database }) }) });
    const body = await response.text();
    if (!response.ok || body.includes('"error"')) throw new Error(`influxd refused ${text}: ${response.status} ${body}`);
  }

  /**
   * Creates `database` keeping one hour (its default retention policy, InfluxDB's
   * shortest): a point written older than that is dropped on arrival.
   */
  async createHourDatabase(database: string): Promise<void> {
    await this.query(`CREATE DATABASE "${database}"`);
    await this.query(`CREATE RETENTION POLICY "hour" ON "${database}" DURATION 1h REPLICATION 1 DEFAULT`);
  }

  /** Starts the process again after stop(), on the same port and data. */
  async resume(): Promise<void> {
    const log = openSync(join(this.dir, 'influxd.log'), 'a');
    this.process = spawn(influxdBinary(), ['-config', this.configPath], { stdio: ['ignore', log, log] });
    closeSync(log);
    const exited = once(this.process, 'exit').then(([code]) => {
      throw new Error(`influxd exited with code ${code} at start; see ${join(this.dir, 'influxd.log')}`);
    });
    await Promise.race([waitForPing(this.url, this.tls?.pem, 20_000), exited]);
    exited.catch(() => {
      // Later exits are ours (stop) or show up as failed requests.
    });
  }

  /** Stops the process (SIGTERM, then SIGKILL), keeping its data. */
  async stop(): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }

  async destroy(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }

  /** A store config on a database of its own. */
  storeConfig(overrides: Partial<InfluxStoreConfig> = {}): InfluxStoreConfig {
    return {
      kind: 'influxdb',
      url: this.url,
      database: uniqueDatabase(),
      username: undefined,
      password: undefined,
      token: undefined,
      timeoutMs: 5_000,
      collectIntervalMs: 60_000,
      readCacheMs: 1_000,
      ...overrides,
    };
  }
}

export interface InfluxServerOptions {
  readonly auth?: boolean;
  readonly queryTimeout?: string;
  readonly tls?: TestCertificate;
  /** Rows past which a whole (not chunked) answer is cut short, marked partial (0: no limit, InfluxDB's default). */
  readonly maxRowLimit?: number;
  /** GROUP BY time buckets past which a query is refused (0: no limit, InfluxDB's default). */
  readonly maxSelectBuckets?: number;
  /** Series past which a query is refused (0: no limit, InfluxDB's default). */
  readonly maxSelectSeries?: number;
}

export interface InfluxCredentials {
  readonly username: string;
  readonly password: string;
}

export function uniqueDatabase(): string {
  return `test_${randomBytes(6).toString('hex')}`;
}

/** Whether an `influxd` binary can be run here. */
export function influxdAvailable(): boolean {
  return spawnSync(influxdBinary(), ['version'], { stdio: 'ignore' }).status === 0;
}

export function influxdBinary(): string {
  return process.env.INFLUXD_BIN ?? 'influxd';
}

async function waitForPing(url: string, ca: string | undefined, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await pingStatus(`${url}/ping`, ca)) === 204) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`influxd at ${url} did not answer /ping within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** fetch cannot be told to trust a certificate: node:https can. */
async function pingStatus(url: string, ca: string | undefined): Promise<number | undefined> {
  if (ca === undefined) return (await fetch(url, { signal: AbortSignal.timeout(1_000) })).status;
  const { get } = await import('node:https');
  return new Promise((resolve, reject) => {
    get(url, { ca, signal: AbortSignal.timeout(1_000) }, (response) => {
      response.resume();
      resolve(response.statusCode);
    }).on('error', reject);
  });
}

function influxdConfig(
  dir: string,
  httpPort: number,
  rpcPort: number,
  { auth, queryTimeout, tls, maxRowLimit, maxSelectBuckets, maxSelectSeries }: Required<Omit<InfluxServerOptions, 'tls'>> & Pick<InfluxServerOptions, 'tls'>,
): string {
  return `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"

[meta]
  dir = "${join(dir, 'meta')}"

[data]
  dir = "${join(dir, 'data')}"
  wal-dir = "${join(dir, 'wal')}"
  query-log-enabled = false

[coordinator]
  query-timeout = "${queryTimeout}"
  max-select-buckets = ${maxSelectBuckets}
  max-select-series = ${maxSelectSeries}

[retention]
  enabled = false

[shard-precreation]
  enabled = false

[monitor]
  store-enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:${httpPort}"
  log-enabled = false
  auth-enabled = ${auth}
  max-row-limit = ${maxRowLimit}
  https-enabled = ${tls !== undefined}
  https-certificate = "${tls?.certificatePath ?? ''}"
  https-private-key = "${tls?.privateKeyPath ?? ''}"

[logging]
  level = "warn"

[subscriber]
  enabled = false

[continuous_queries]
  enabled = false
`;
}
