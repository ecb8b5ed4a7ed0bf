import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { CollectorStats } from './collector/stats.js';
import { FastHistogram } from './histogram.js';
import { droppedLogLines, LOG_BACKLOG_BYTES } from './log.js';
import type { JsonBody, ListQuery, MemoryPoint, MemoryStore, RequestOptions } from './storage/types.js';

/**
 * A Prometheus registry with the process's default metrics (memory, CPU, event
 * loop) and its log lines dropped while stdout's reader was behind.
 */
export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'memory_tracker_' });
  readCounter(
    registry,
    'memory_tracker_log_lines_dropped_total',
    `Log lines dropped because whatever reads stdout was ${LOG_BACKLOG_BYTES / 1024 / 1024} MiB behind.`,
    droppedLogLines,
  );
  return registry;
}

/** A counter whose value is read from `read` at every scrape. */
function readCounter(registry: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

/** A gauge whose value is read from `read` at every scrape. */
function readGauge(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}

const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export interface ApiMetrics {
  observeRequest(route: string, method: string, status: number, seconds: number): void;
  /** A page whose store failed after its answer began (a 200 already counted). */
  countPageCutShort(): void;
}

/**
 * Requests by route, method and status, with their duration. One histogram: its
 * `_count` is the request counter, and a second metric would cost every request
 * another label lookup.
 */
export function apiMetrics(registry: Registry): ApiMetrics {
  const duration = new FastHistogram({
    name: 'memory_tracker_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by route, method and status; its _count counts requests.',
    labelNames: ['route', 'method', 'status'],
    buckets: DURATION_BUCKETS,
    registry,
  });
  const cutShort = new Counter({
    name: 'memory_tracker_http_pages_cut_short_total',
    help: "Pages whose store failed after their 200 went out: the client's connection was closed before the page's end.",
    registers: [registry],
  });
  return {
    observeRequest(route, method, status, seconds) {
      duration.labels(route, method, String(status)).observe(seconds);
    },
    countPageCutShort() {
      cutShort.inc();
    },
  };
}

/** Wraps a store so that each request to it is timed, by operation and outcome. */
export function instrumentStore(store: MemoryStore, registry: Registry): MemoryStore {
  const duration = new FastHistogram({
    name: 'memory_tracker_store_request_duration_seconds',
    help: 'Time the store took to answer, by operation and outcome.',
    labelNames: ['operation', 'outcome'],
    buckets: DURATION_BUCKETS,
    registry,
  });
  const timed = async <T>(operation: string, call: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    let outcome = 'ok';
    try {
      return await call();
    } catch (error) {
      outcome = (error as { code?: string }).code ?? 'error';
      throw error;
    } finally {
      duration.labels(operation, outcome).observe((performance.now() - started) / 1_000);
    }
  };
  return {
    write: (points: readonly MemoryPoint[], options?: RequestOptions) => timed('write', () => store.write(points, options)),
    listJson: (query: ListQuery): Promise<JsonBody> => timed('list', () => store.listJson(query)),
    listHosts: () => timed('hosts', () => store.listHosts()),
    health: () => timed('health', () => store.health()),
    close: () => store.close(),
  };
}

/** The collector's counters, read from its stats at every scrape. */
export function registerCollectorMetrics(registry: Registry, stats: CollectorStats): void {
  const counter = (name: string, help: string, read: () => number): void => readCounter(registry, name, help, read);
  const gauge = (name: string, help: string, read: () => number): void => readGauge(registry, name, help, read);
  counter('memory_tracker_collector_runs_total', 'Collector runs that finished (a sample taken and delivered or spooled).', () => stats.runs);
  counter('memory_tracker_collector_run_failures_total', 'Collector runs that failed (meminfo unreadable, timeout, crash).', () => stats.failures);
  counter('memory_tracker_points_written_total', 'Points the store stored, replayed ones included.', () => stats.pointsWritten);
  counter('memory_tracker_points_spooled_total', 'Points that went to the spool because the store refused them.', () => stats.pointsSpooled);
  counter('memory_tracker_points_dropped_total', 'Oldest points dropped because the spool (or, with the spool unwritable, the memory holding them) was full.', () => stats.pointsDropped);
  counter('memory_tracker_points_beyond_retention_total', "Points the store dropped as older than its retention policy keeps (InfluxDB), the rest of their write stored.", () => stats.pointsBeyondRetention);
  gauge('memory_tracker_spool_depth', 'Points waiting in the spool after the last run.', () => stats.spoolDepth);
  gauge('memory_tracker_points_held', 'Points neither the store nor the spool took (the spool unwritable), held in memory for the next runs: lost if the process ends.', () => stats.pointsHeld);
  gauge('memory_tracker_last_successful_write_timestamp_seconds', 'When the store last acknowledged a point (0: never).', () => stats.lastWriteSeconds);
}
