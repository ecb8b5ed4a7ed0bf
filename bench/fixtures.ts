import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { InfluxStoreConfig, StoreConfig } from '../config.js';
import { openStore } from '../storage/index.js';
import type { MemoryPoint } from '../storage/types.js';
import { InfluxServer } from '../test/helpers/influxd.js';
import { freePort } from '../test/helpers/ports.js';
import { waitFor } from '../test/helpers/wait.js';
import { removeAtEnd } from './leftovers.js';

export const HOST = 'bench';
export const YEAR_OF_MINUTES = 525_600;

/** The load generator's command-line script, run with `node` in its own process. */
export const AUTOCANNON = createRequire(import.meta.url).resolve('autocannon/autocannon.js');

/** Node's options from the benchmark's own environment: the image sets some (deploy/Dockerfile). */
const NODE_OPTIONS = process.env.NODE_OPTIONS;

/**
 * What a process a benchmark starts keeps of the benchmark's environment: where
 * `node` is and its options, so that it runs as the table's title says.
 */
export function inheritedEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, ...(NODE_OPTIONS === undefined ? {} : { NODE_OPTIONS }) };
}

/** The runtime a table was measured on, for its title. */
export function runtimeLabel(): string {
  return `Node ${process.version}${NODE_OPTIONS ? `, NODE_OPTIONS=${NODE_OPTIONS}` : ''}`;
}

/** A private `influxd` of a benchmark's, with a database of its own. */
export interface BenchInflux {
  readonly url: string;
  readonly config: InfluxStoreConfig;
  /** The environment that points the API or the collector at that database. */
  readonly env: Record<string, string>;
  /** Ends it and removes its data. */
  stop(): Promise<void>;
}

/** Starts a private `influxd`; its directory goes however the benchmark ends (leftovers.ts). */
export async function startInflux(): Promise<BenchInflux> {
  const server = await InfluxServer.start();
  removeAtEnd(server.dir);
  const config = server.storeConfig();
  return {
    url: server.url,
    config,
    env: { STORE: 'influxdb', INFLUX_URL: server.url, INFLUX_DATABASE: config.database },
    stop: () => server.destroy(),
  };
}

/** A year of minute points for one host, ending at the last full minute. */
export async function seedYear(config: StoreConfig): Promise<void> {
  const store = await openStore(config);
  const end = Math.floor(Date.now() / 60_000) * 60;
  const start = end - (YEAR_OF_MINUTES - 1) * 60;
  const batch = 10_000;
  for (let i = 0; i < YEAR_OF_MINUTES; i += batch) {
    const points: MemoryPoint[] = [];
    for (let j = i; j < Math.min(i + batch, YEAR_OF_MINUTES); j++) {
      const used = 3_000 + ((j * 7) % 2_000);
      points.push({ host: HOST, timestamp: start + j * 60, total: 8_192, free: 8_192 - used, used });
    }
    await store.write(points);
  }
  await store.close();
}

/**
 * How a benchmark starts a server's `node`: directly, or after a tool's own command
 * line (valgrind), which also makes it start far slower.
 */
export interface Launcher {
  readonly command: readonly string[];
  readonly startTimeoutMs: number;
}

const DIRECT: Launcher = { command: [], startTimeoutMs: 15_000 };

export interface ServerProcess {
  readonly pid: number;
  /** SIGTERM (a tool under which it runs writes its results then), and its exit. */
  stop(): Promise<void>;
}

/**
 * Where a server's stdout goes: the benchmark's own, or a pipe the benchmark reads
 * and drops, as a container runtime reads a service's logs.
 */
type Stdout = 'inherit' | 'drain';

/** `node` with `args` as its own process, ready when `readyUrl` answers 200. */
async function startNodeServer(what: string, args: readonly string[], readyUrl: string, env: NodeJS.ProcessEnv, launcher: Launcher, stdout: Stdout = 'inherit'): Promise<ServerProcess> {
  const [file, ...rest] = [...launcher.command, process.execPath, ...args];
  const child: ChildProcess = spawn(file!, rest, { env: { ...inheritedEnv(), ...env }, stdio: ['ignore', stdout === 'drain' ? 'pipe' : 'inherit', 'inherit'] });
  child.stdout?.resume();
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await once(child, 'exit');
  };
  try {
    await waitFor(what, async () => ((await fetch(readyUrl).catch(() => undefined))?.ok ? true : undefined), launcher.startTimeoutMs);
  } catch (error) {
    await stop();
    throw error;
  }
  return { pid: child.pid!, stop };
}

/**
 * `memory-tracker serve` as its own process, on a free port, ready when /healthz
 * answers. It logs at warn, onto the benchmark's output; with `accessLog`, at info
 * (the API's default: a JSON line per request on stdout), its stdout drained.
 */
export async function startApiProcess(env: Record<string, string>, { launcher = DIRECT, accessLog = false }: { launcher?: Launcher; accessLog?: boolean } = {}): Promise<ServerProcess & { port: number }> {
  const port = await freePort();
  const environment = { LOG_LEVEL: accessLog ? 'info' : 'warn', BIND_ADDRESS: '127.0.0.1', PORT: String(port), ...env };
  const args = [join(import.meta.dirname, '..', 'cli.js'), 'serve'];
  const server = await startNodeServer('the API', args, `http://127.0.0.1:${port}/healthz`, environment, launcher, accessLog ? 'drain' : 'inherit');
  return { ...server, port };
}

/** How a bare Koa floor answers its fixed records (bare-koa.ts). */
export type BareKoaKind = 'array' | 'text';

export const BARE_KOA_LABELS: Record<BareKoaKind, string> = {
  array: 'bare Koa + @koa/router, fixed 10-record array',
  text: 'bare Koa + @koa/router, the same records as fixed JSON text',
};

/** bare-koa.js as its own process on a free port: a floor the API's small pages are compared with. */
export async function startBareKoa(kind: BareKoaKind, launcher = DIRECT): Promise<ServerProcess & { url: string }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/memory-logs/`;
  const server = await startNodeServer(BARE_KOA_LABELS[kind], [join(import.meta.dirname, 'bare-koa.js'), String(port), kind], url, {}, launcher);
  return { ...server, url };
}
