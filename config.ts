import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from './errors.js';
import { hostProblem } from './storage/point.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface SqliteStoreConfig {
  readonly kind: 'sqlite';
  readonly path: string;
  readonly timeoutMs: number;
}

export interface InfluxStoreConfig {
  readonly kind: 'influxdb';
  readonly url: string;
  readonly database: string;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly token: string | undefined;
  readonly timeoutMs: number;
  /** Expected spacing of points; sizes the time window of each query. */
  readonly collectIntervalMs: number;
  /** How long a small page is served again before it is read anew; 0: never. */
  readonly readCacheMs: number;
}

/** InfluxDB 2.x through its own API and Flux (`INFLUX_API=v2`). */
export interface InfluxV2StoreConfig {
  readonly kind: 'influxdb2';
  readonly url: string;
  readonly org: string;
  readonly bucket: string;
  readonly token: string;
  readonly timeoutMs: number;
  readonly collectIntervalMs: number;
  readonly readCacheMs: number;
}

export type StoreConfig = SqliteStoreConfig | InfluxStoreConfig | InfluxV2StoreConfig;

export interface CollectorConfig {
  readonly intervalMs: number;
  /** A run still going after this long is ended (its point stays in the spool). */
  readonly timeoutMs: number;
  readonly procRoot: string;
  readonly host: string;
  readonly spoolDir: string;
  readonly spoolMaxPoints: number;
  /** Touched after every run; `memory-tracker healthcheck collector` checks its age. */
  readonly heartbeatPath: string;
}

export interface BasicAuthConfig {
  readonly realm: string;
  readonly users: ReadonlyArray<{ readonly user: string; readonly hash: string }>;
}

export interface RateLimitConfig {
  /** Requests per period per client, refilled continuously (Traefik's `average`). */
  readonly average: number;
  readonly periodMs: number;
  /** Requests allowed at once (the bucket's size). */
  readonly burst: number;
}

export interface ApiConfig {
  /** Off unless users are configured. */
  readonly basicAuth: BasicAuthConfig | undefined;
  /** Off unless an average is configured. */
  readonly rateLimit: RateLimitConfig | undefined;
  /** Peers whose X-Forwarded-For is believed: addresses and CIDR ranges. */
  readonly trustedProxies: readonly string[];
  /** How long a shutdown waits for in-flight requests. */
  readonly shutdownTimeoutMs: number;
  /** How long a connection may carry nothing while a request is answered before it is closed. */
  readonly sendTimeoutMs: number;
}

export interface Config {
  /** `memory-tracker collect` serves its metrics here when set. */
  readonly collectorMetricsPort: number | undefined;
  readonly port: number;
  readonly bindAddress: string;
  readonly logLevel: LogLevel;
  readonly api: ApiConfig;
  readonly store: StoreConfig;
  readonly collector: CollectorConfig;
}

export interface EnvVarDoc {
  readonly name: string;
  readonly default: string;
  readonly doc: string;
}

/**
 * Every variable the service reads, with its default and meaning. The README's
 * configuration table is checked against this list by a test.
 */
export const ENV_VARS: readonly EnvVarDoc[] = [
  { name: 'PORT', default: '8000', doc: 'TCP port of the API.' },
  { name: 'BIND_ADDRESS', default: '0.0.0.0', doc: 'Address the API listens on.' },
  { name: 'LOG_LEVEL', default: 'info', doc: `Log level: ${LOG_LEVELS.join(', ')}. \`info\` includes an access line per request; \`warn\` leaves it out, for the API's fastest answers (see Operating it, Logs).` },
  { name: 'BASIC_AUTH_USERS', default: '(none: auth off)', doc: 'Enables HTTP basic auth: `user:hash` entries as Traefik takes them (apr1, bcrypt or SHA1 htpasswd hashes), separated by commas or newlines. `BASIC_AUTH_USERS_FILE` reads them from a file (an htpasswd file, a Docker secret).' },
  { name: 'BASIC_AUTH_REALM', default: 'memory-tracker', doc: 'The realm of the `WWW-Authenticate` challenge.' },
  { name: 'RATE_LIMIT_AVERAGE', default: '0 (off)', doc: 'Enables a rate limit per client address: requests per `RATE_LIMIT_PERIOD`, refilled continuously (Traefik\'s semantics).' },
  { name: 'RATE_LIMIT_PERIOD', default: '1s', doc: 'The period of `RATE_LIMIT_AVERAGE`.' },
  { name: 'RATE_LIMIT_BURST', default: '1', doc: 'Requests a client may make at once.' },
  { name: 'TRUSTED_PROXIES', default: '(none)', doc: 'Addresses or CIDR ranges (comma-separated) whose `X-Forwarded-For` is believed when finding a client\'s address.' },
  { name: 'SHUTDOWN_TIMEOUT', default: '10s', doc: 'On SIGTERM, how long in-flight requests may take before connections are closed.' },
  { name: 'SEND_TIMEOUT', default: '60s, or twice STORE_TIMEOUT if longer', doc: 'How long a connection may carry nothing while its request is answered, before it is closed (nginx\'s `send_timeout`): a client that stops reading a large page would otherwise hold it, and the store reader and memory it takes, for as long as it keeps the connection open. Longer than `STORE_TIMEOUT`, which a request may wait for (a shorter one stops the start). A client reading slowly is not bound by it: only silence counts.' },
  { name: 'DATA_DIR', default: './data', doc: 'Directory for the SQLite file, the spool and the collector\'s heartbeat file.' },
  { name: 'STORE', default: 'sqlite', doc: 'Storage backend: `sqlite` (embedded) or `influxdb`.' },
  { name: 'STORE_TIMEOUT', default: '5s', doc: 'Longest wait for one store request; past it the API answers 503 and the collector spools. A page of over 10,000 points streamed from InfluxDB is broken off (see [Errors](#errors)) when InfluxDB sends nothing more of it for this long; a client reading it slowly is not bound by it.' },
  { name: 'SQLITE_PATH', default: '$DATA_DIR/memory-tracker.sqlite', doc: 'SQLite database file (`STORE=sqlite`).' },
  { name: 'INFLUX_URL', default: 'http://127.0.0.1:8086', doc: 'InfluxDB base URL (`STORE=influxdb`); `https://` for TLS. A server whose certificate comes from a private CA is trusted by naming the CA\'s certificate file (PEM) in Node\'s own `NODE_EXTRA_CA_CERTS`, which the collector\'s run threads use too. A base URL (a path is kept): credentials in it, a query or a fragment are refused, credentials going in the variables below.' },
  { name: 'INFLUX_DATABASE', default: 'memory_tracker', doc: 'InfluxDB database (1.x), or the bucket mapped to it (2.x/3.x); created if missing where the server allows.' },
  { name: 'INFLUX_USERNAME', default: '(none)', doc: 'InfluxDB user; set together with `INFLUX_PASSWORD`.' },
  { name: 'INFLUX_PASSWORD', default: '(none)', doc: 'InfluxDB password. `INFLUX_PASSWORD_FILE` reads it from a file (Docker secret).' },
  { name: 'INFLUX_TOKEN', default: '(none)', doc: 'InfluxDB token (2.x/3.x), instead of username/password. `INFLUX_TOKEN_FILE` reads it from a file.' },
  { name: 'INFLUX_API', default: 'v1', doc: '`v1`: line protocol and InfluxQL over `/write` and `/query` (InfluxDB 1.x, 2.x, 3.x); `v2`: the InfluxDB 2.x API with Flux, through @influxdata/influxdb-client (needs `INFLUX_ORG` and `INFLUX_TOKEN`).' },
  { name: 'INFLUX_READ_CACHE', default: '1s', doc: 'How long the API serves a page of up to 1,000 points again before asking InfluxDB anew (`0`: never); identical requests meanwhile share one query. Collectors write to InfluxDB directly, so a new point can show up this much later.' },
  { name: 'INFLUX_ORG', default: '(none)', doc: 'InfluxDB 2.x organization (`INFLUX_API=v2`).' },
  { name: 'INFLUX_BUCKET', default: '$INFLUX_DATABASE', doc: 'InfluxDB 2.x bucket (`INFLUX_API=v2`).' },
  { name: 'COLLECT_INTERVAL', default: '1m', doc: 'Time between samples, in whole seconds: a number with `s`, `m`, `h` or `d` (`1s`, `30s`, `1m`).' },
  { name: 'COLLECT_TIMEOUT', default: '80% of COLLECT_INTERVAL', doc: 'A collector run still going after this long is ended; its point stays spooled.' },
  { name: 'PROC_ROOT', default: '/proc', doc: 'Where `meminfo` is read from (the host\'s `/proc` mounted into a container).' },
  { name: 'NODE_NAME', default: 'the OS hostname', doc: 'The `host` tag of every point: at most 255 characters, no backslash or control character.' },
  { name: 'SPOOL_DIR', default: '$DATA_DIR/spool', doc: 'Durable queue of points the store has not acknowledged yet.' },
  { name: 'COLLECTOR_METRICS_PORT', default: '(none: off)', doc: 'When the collector runs alone, serves its Prometheus metrics on this port at `/metrics` (with `all`, the API\'s `/metrics` has them).' },
  { name: 'SPOOL_MAX_POINTS', default: 'one week of points', doc: 'Spool bound; past it the oldest points are dropped and counted.' },
];

type Env = Readonly<Record<string, string | undefined>>;

const DURATION = /^(\d+)(ms|s|m|h|d)$/;
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const WEEK_MS = 7 * UNIT_MS.d;
/** A page served longer than this would hide whole collection intervals. */
const MAX_READ_CACHE_MS = UNIT_MS.m;
/**
 * The longest duration of any variable. Node's timers wait at most 2^31 - 1 ms
 * (24.8 days) and fire at once for more: a longer STORE_TIMEOUT would abort every
 * request at once, a longer COLLECT_INTERVAL fire its ticks in a loop.
 */
const MAX_DURATION_MS = 24 * UNIT_MS.d;

/** Parses `1s`, `90s`, `1m`, `2h`; returns milliseconds, or undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text);
  if (!match) return undefined;
  const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  return Number.isSafeInteger(ms) && ms > 0 ? ms : undefined;
}

/**
 * Reads and validates every setting at once. Throws one ConfigError listing all
 * problems, each naming its variable. The result is frozen and passed down.
 */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const value = (name: string): string | undefined => {
    const raw = env[name];
    return raw === undefined || raw === '' ? undefined : raw;
  };
  const secret = (name: string): string | undefined => {
    const fileName = `${name}_FILE`;
    const path = value(fileName);
    if (path === undefined) return value(name);
    if (value(name) !== undefined) problems.push(`${name} and ${fileName} are both set: keep one`);
    try {
      return readSecretFile(path).trim();
    } catch (error) {
      problems.push(`${fileName}: cannot read ${path} (${(error as Error).message})`);
      return undefined;
    }
  };
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = value(name);
    if (raw === undefined) return fallback;
    const parsed = /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!(parsed >= min && parsed <= max)) {
      problems.push(`${name}: expected a whole number from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return parsed;
  };
  const duration = (name: string, fallback: number): number => {
    const raw = value(name);
    if (raw === undefined) return fallback;
    const parsed = parseDuration(raw);
    if (parsed === undefined) {
      problems.push(`${name}: expected a duration such as 500ms, 30s, 1m or 1h, got "${raw}"`);
      return fallback;
    }
    if (parsed > MAX_DURATION_MS) {
      problems.push(`${name}: at most 24d, the longest a timer waits, got "${raw}"`);
      return fallback;
    }
    return parsed;
  };
  const choice = <T extends string>(name: string, allowed: readonly T[], fallback: T): T => {
    const raw = value(name) ?? fallback;
    if (!(allowed as readonly string[]).includes(raw)) {
      problems.push(`${name}: expected one of ${allowed.join(', ')}, got "${raw}"`);
      return fallback;
    }
    return raw as T;
  };

  const dataDir = value('DATA_DIR') ?? './data';
  const storeTimeoutMs = duration('STORE_TIMEOUT', 5_000);
  const intervalMs = duration('COLLECT_INTERVAL', UNIT_MS.m);
  if (intervalMs % 1_000 !== 0) {
    problems.push(`COLLECT_INTERVAL: timestamps are whole seconds, so the interval must be whole seconds too (1s, 30s, 1m), got ${intervalMs} ms`);
  }
  const timeoutMs = duration('COLLECT_TIMEOUT', Math.max(1, Math.floor(intervalMs * 0.8)));
  if (timeoutMs >= intervalMs) {
    problems.push(`COLLECT_TIMEOUT: must be shorter than COLLECT_INTERVAL (${intervalMs} ms) so runs never overlap`);
  }

  const storeKind = choice('STORE', ['sqlite', 'influxdb'] as const, 'sqlite');
  let store: StoreConfig;
  if (storeKind === 'sqlite') {
    const path = value('SQLITE_PATH') ?? join(dataDir, 'memory-tracker.sqlite');
    // The collector's threads and the API's large pages open the file themselves.
    if (path === ':memory:' || path.startsWith('file:')) problems.push(`SQLITE_PATH: expected a file path, got "${path}"`);
    store = { kind: 'sqlite', path, timeoutMs: storeTimeoutMs };
  } else {
    const url = value('INFLUX_URL') ?? 'http://127.0.0.1:8086';
    const urlProblem = influxUrlProblem(url);
    if (urlProblem !== undefined) problems.push(`INFLUX_URL: ${urlProblem}`);
    const username = value('INFLUX_USERNAME');
    const password = secret('INFLUX_PASSWORD');
    const token = secret('INFLUX_TOKEN');
    if ((username === undefined) !== (password === undefined)) {
      problems.push('INFLUX_USERNAME and INFLUX_PASSWORD: set both or neither');
    }
    if (token !== undefined && username !== undefined) {
      problems.push('INFLUX_TOKEN: set either a token or INFLUX_USERNAME/INFLUX_PASSWORD, not both');
    }
    const database = value('INFLUX_DATABASE') ?? 'memory_tracker';
    const influxApi = choice('INFLUX_API', ['v1', 'v2'] as const, 'v1');
    const readCacheMs = /^0(ms|s|m|h|d)?$/.test(value('INFLUX_READ_CACHE') ?? '') ? 0 : duration('INFLUX_READ_CACHE', 1_000);
    if (readCacheMs > MAX_READ_CACHE_MS) problems.push(`INFLUX_READ_CACHE: at most 1m (${MAX_READ_CACHE_MS} ms), got ${readCacheMs} ms`);
    if (influxApi === 'v2') {
      const org = value('INFLUX_ORG');
      if (org === undefined) problems.push('INFLUX_ORG: required with INFLUX_API=v2');
      if (token === undefined) problems.push('INFLUX_TOKEN: required with INFLUX_API=v2');
      if (username !== undefined) problems.push('INFLUX_USERNAME: INFLUX_API=v2 authenticates with INFLUX_TOKEN only');
      store = {
        kind: 'influxdb2',
        url: url.replace(/\/+$/, ''),
        org: org ?? '',
        bucket: value('INFLUX_BUCKET') ?? database,
        token: token ?? '',
        timeoutMs: storeTimeoutMs,
        collectIntervalMs: intervalMs,
        readCacheMs,
      };
    } else {
      store = {
        kind: 'influxdb',
        url: url.replace(/\/+$/, ''),
        database,
        username,
        password,
        token,
        timeoutMs: storeTimeoutMs,
        collectIntervalMs: intervalMs,
        readCacheMs,
      };
    }
  }

  // Checked here rather than point by point: a host no store takes would send every
  // point to the spool, which drops it as invalid.
  const host = value('NODE_NAME') ?? hostname();
  const hostInvalid = hostProblem(host);
  if (hostInvalid !== undefined) problems.push(`NODE_NAME${value('NODE_NAME') === undefined ? ' (unset: the OS hostname)' : ''}: ${hostInvalid}, got ${JSON.stringify(host)}`);
  const collector: CollectorConfig = {
    intervalMs,
    timeoutMs,
    procRoot: value('PROC_ROOT') ?? '/proc',
    host,
    spoolDir: value('SPOOL_DIR') ?? join(dataDir, 'spool'),
    spoolMaxPoints: integer('SPOOL_MAX_POINTS', Math.max(1, Math.ceil(WEEK_MS / intervalMs)), 1, 100_000_000),
    heartbeatPath: join(dataDir, 'collector.heartbeat'),
  };

  const users = (secret('BASIC_AUTH_USERS') ?? '')
    .split(/[,\n]/)
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '' && !entry.startsWith('#'))
    .map((entry) => {
      const colon = entry.indexOf(':');
      const [user, hash] = [entry.slice(0, colon), entry.slice(colon + 1)];
      if (colon <= 0 || !HTPASSWD_HASH.test(hash)) {
        problems.push(`BASIC_AUTH_USERS: "${entry.slice(0, Math.max(colon, 0))}…" is not user:hash with an apr1, bcrypt or SHA1 hash`);
      }
      return { user, hash };
    });
  const average = integer('RATE_LIMIT_AVERAGE', 0, 0, 1_000_000);
  const trustedProxies = (value('TRUSTED_PROXIES') ?? '').split(',').map((entry) => entry.trim()).filter(Boolean);
  for (const entry of trustedProxies) {
    if (!isAddressOrRange(entry)) problems.push(`TRUSTED_PROXIES: "${entry}" is not an IP address or CIDR range`);
  }
  const api: ApiConfig = {
    basicAuth: users.length > 0 ? { realm: value('BASIC_AUTH_REALM') ?? 'memory-tracker', users } : undefined,
    rateLimit: average > 0 ? { average, periodMs: duration('RATE_LIMIT_PERIOD', 1_000), burst: integer('RATE_LIMIT_BURST', 1, 1, 1_000_000) } : undefined,
    trustedProxies,
    shutdownTimeoutMs: duration('SHUTDOWN_TIMEOUT', 10_000),
    // By default past twice the store's timeout too, so that a long STORE_TIMEOUT set before works as it did.
    sendTimeoutMs: duration('SEND_TIMEOUT', Math.min(MAX_DURATION_MS, Math.max(UNIT_MS.m, 2 * storeTimeoutMs))),
  };
  if (value('SEND_TIMEOUT') !== undefined && api.sendTimeoutMs <= storeTimeoutMs) {
    problems.push(`SEND_TIMEOUT: must be longer than STORE_TIMEOUT (${storeTimeoutMs} ms), which a request may wait for: it would lose its connection before its 503`);
  }

  const config: Config = {
    collectorMetricsPort: value('COLLECTOR_METRICS_PORT') === undefined ? undefined : integer('COLLECTOR_METRICS_PORT', 0, 1, 65_535),
    port: integer('PORT', 8000, 0, 65_535),
    bindAddress: value('BIND_ADDRESS') ?? '0.0.0.0',
    logLevel: choice('LOG_LEVEL', LOG_LEVELS, 'info'),
    api,
    store,
    collector,
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(config);
}

/**
 * The longest `*_FILE` read: Docker caps a secret at 500 KiB, and an htpasswd file of
 * thousands of users stays below it. A path to something endless (`/dev/zero`, a
 * log) would otherwise be read until memory ran out, before the start could fail.
 */
const LONGEST_SECRET_BYTES = 1024 * 1024;

/** The text of a `*_FILE`, or an error for one longer than LONGEST_SECRET_BYTES. */
function readSecretFile(path: string): string {
  const file = openSync(path, 'r');
  try {
    const bytes = Buffer.alloc(LONGEST_SECRET_BYTES + 1);
    let length = 0;
    for (;;) {
      const read = readSync(file, bytes, length, bytes.length - length, null);
      length += read;
      if (read === 0 || length === bytes.length) break;
    }
    if (length > LONGEST_SECRET_BYTES) throw new Error(`longer than ${LONGEST_SECRET_BYTES / 1024 / 1024} MiB, which no secret is`);
    return bytes.toString('utf8', 0, length);
  } finally {
    closeSync(file);
  }
}

// The htpasswd hashes Traefik accepts: apr1 (`openssl passwd -apr1`), bcrypt, SHA1.
const HTPASSWD_HASH = /^(\$apr1\$[./A-Za-z0-9]{1,8}\$[./A-Za-z0-9]{22}|\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}|\{SHA\}[A-Za-z0-9+/]{27}=)$/;

function isAddressOrRange(entry: string): boolean {
  const [address, prefix, ...rest] = entry.split('/');
  const version = isIP(address ?? '');
  if (version === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^\d+$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128));
}

/**
 * Why INFLUX_URL cannot be InfluxDB's base URL, or undefined. Credentials in it
 * would be written into every log line that names the server (and the URL is not
 * where the store takes them from); a query or fragment would end up in the middle
 * of every request's path.
 */
function influxUrlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `expected an http:// or https:// URL, got "${text}"`;
  }
  // Before anything that repeats the URL: it would repeat the password too.
  if (url.username !== '' || url.password !== '') return 'credentials go in INFLUX_USERNAME and INFLUX_PASSWORD (or INFLUX_TOKEN), not in the URL, which the logs name';
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `expected an http:// or https:// URL, got ${url.protocol}`;
  // Not repeated either: InfluxDB 1.x also takes credentials in the query (u, p).
  if (url.search !== '' || url.hash !== '') return 'expected a base URL, without a query or fragment';
  return undefined;
}

function deepFreeze<T extends object>(object: T): T {
  for (const child of Object.values(object)) {
    if (child !== null && typeof child === 'object') deepFreeze(child);
  }
  return Object.freeze(object);
}
