#!/usr/bin/env node
import { constants as osConstants } from 'node:os';
import { parseArgs } from 'node:util';
import { loadConfig, type Config, type StoreConfig } from './config.js';
import { ConfigError, ImportFileError, ImportStoreFailedError, StoreRefusedError } from './errors.js';
import { limitHeapGrowth } from './heap-growth.js';
import { createLogger, type Logger } from './log.js';
import type { ImportFormat } from './importer/parse.js';
import { VERSION } from './version.js';

const USAGE = `Usage: memory-tracker <command> [options]

Commands:
  all                 the API and the collector together (npm start)
  serve               the API alone (npm run api)
  collect             the collector alone (npm run collector)
  import FILE...      import history into the configured store, from CSV, JSON
                      lines or arrays (timestamp,total,free,used[,host]; the API's
                      own pages) or InfluxDB line protocol, gzipped or not (FILE -:
                      standard input), or from a SQLite database (the original
                      service's or the embedded store's); idempotent. Options:
                      --format csv|json|lp (default: by the file's extension),
                      --host NAME (for rows without one)
  healthcheck [api|collector]
                      exit 0 when the local API answers /healthz, or when the
                      collector's last run to take its point was recent (the
                      Docker HEALTHCHECK)
  --help, --version

Configuration comes from environment variables: see the README.`;

/** Entry point: config -> store -> API and/or collector -> graceful stop on a signal. */
async function main(argv: readonly string[]): Promise<number> {
  const command = argv[0];
  const options = argv.includes('--') ? argv.slice(0, argv.indexOf('--')) : argv;
  if (command === 'help' || options.includes('--help') || options.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  if (command === '--version' || command === '-v') {
    console.log(VERSION);
    return 0;
  }
  if (!['all', 'serve', 'collect', 'import', 'healthcheck'].includes(command ?? '')) {
    console.error(command === undefined ? USAGE : `Unknown command "${command}".\n\n${USAGE}`);
    return 2;
  }
  // `serve --port 9000` would otherwise start on PORT's port as if it had been heard.
  const argumentsTaken = command === 'import' ? Infinity : command === 'healthcheck' ? 1 : 0;
  if (argv.length - 1 > argumentsTaken) {
    const unheard = argv.slice(1 + argumentsTaken).map((arg) => JSON.stringify(arg)).join(' ');
    const takes = argumentsTaken === 0 ? 'no arguments' : 'one argument at most (api or collector)';
    console.error(`${command} takes ${takes}, not ${unheard}: settings come from environment variables (PORT=9000, say; see the README).`);
    return 2;
  }
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 78; // EX_CONFIG
    }
    throw error;
  }
  if (command === 'healthcheck') return healthcheck(argv.slice(1), config);
  if (command === 'import') return runImport(argv.slice(1), config);
  return runServices(command as 'all' | 'serve' | 'collect', config, createLogger(config.logLevel));
}

async function runServices(command: 'all' | 'serve' | 'collect', config: Config, logger: Logger): Promise<number> {
  const stops: Array<() => Promise<void>> = [];
  try {
    // Imported on demand: the collector alone on every node should not carry the
    // API's modules (Koa, ajv, the SQLite driver) in its memory.
    const metrics = command === 'collect' && config.collectorMetricsPort === undefined ? undefined : await import('./metrics.js');
    const registry = metrics?.createRegistry();
    if (command === 'collect' || command === 'all') {
      const { startCollector } = await import('./collector/scheduler.js');
      const collector = await startCollector(config.collector, config.store, logger, { alone: command === 'collect' });
      stops.push(() => collector.stop());
      if (registry) metrics!.registerCollectorMetrics(registry, collector.stats);
      if (command === 'collect' && registry) {
        const { startMetricsServer } = await import('./metrics-server.js');
        const server = await startMetricsServer(registry, config.bindAddress, config.collectorMetricsPort!, logger);
        stops.push(() => server.close());
      }
    }
    if (command === 'serve' || command === 'all') {
      limitHeapGrowth();
      const [{ startApi }, { openStore }] = await Promise.all([import('./api/server.js'), import('./storage/index.js')]);
      const store = await openStore(config.store);
      // Not waited for: the API answers meanwhile, 503 while the store is down or refuses it.
      void store.health().catch((error: unknown) => {
        if (error instanceof StoreRefusedError) logger.error({ err: error }, 'store refused the API at start, answering 503 until it accepts it');
        else logger.warn({ err: error }, 'store not answering at start, answering 503 until it does');
      });
      const api = await startApi(config, store, logger, { registry, collectIntervalMs: config.collector.intervalMs });
      stops.unshift(async () => {
        await api.close();
        await store.close();
      });
    }
  } catch (error) {
    logger.fatal({ err: error }, 'start failed');
    await Promise.allSettled(stops.map((stop) => stop()));
    return 1;
  }
  await waitForSignal(logger);
  await Promise.allSettled(stops.map((stop) => stop()));
  logger.info('stopped');
  return 0;
}

async function healthcheck(args: readonly string[], config: Config): Promise<number> {
  const target = args[0] ?? 'api';
  if (target !== 'api' && target !== 'collector') {
    console.error(`Unknown healthcheck target "${target}": api or collector.`);
    return 2;
  }
  const { checkHealth } = await import('./healthcheck.js');
  const { healthy, reason } = await checkHealth(target, config);
  console.log(`${healthy ? 'healthy' : 'unhealthy'}: ${reason}`);
  return healthy ? 0 : 1;
}

/** How an import ended, as its exit code: worse outcomes have higher codes. */
const IMPORT_EXIT = { imported: 0, partly: 1, unreadable: 2, storeFailed: 3 } as const;

/**
 * Each FILE in turn, with a summary of its own. Exit codes: 0 all imported, 1 some
 * points were not (bad lines, points older than the store's retention policy keeps,
 * or input that could not be read to its end; the rest is imported), 2 usage or a
 * file it cannot read at all (nothing imported from it), 3 store; with several
 * files, the highest of theirs. A store failure stops at once: the next file would
 * meet it too. A stop signal ends it after the lines already read are stored,
 * with 128 + the signal's number, as a shell reports a process the signal ended; a
 * second one ends it at once.
 */
async function runImport(args: readonly string[], config: Config): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], allowPositionals: true, options: { format: { type: 'string' }, host: { type: 'string' } } });
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return IMPORT_EXIT.unreadable;
  }
  const [{ importFormatNamed }, { STDIN }, { hostProblem }] = await Promise.all([import('./importer/input.js'), import('./importer/source.js'), import('./storage/point.js')]);
  const files = parsed.positionals;
  const formatName = parsed.values.format;
  const format = formatName === undefined ? undefined : importFormatNamed(formatName);
  const hostInvalid = parsed.values.host === undefined ? undefined : hostProblem(parsed.values.host);
  const problem =
    files.length === 0 ? `import needs a FILE.\n\n${USAGE}`
    : formatName !== undefined && format === undefined ? `--format takes csv, json, jsonl or lp, not ${JSON.stringify(formatName)}.`
    : files.filter((file) => file === STDIN).length > 1 ? `import reads standard input (${STDIN}) once.`
    : hostInvalid !== undefined ? `--host ${JSON.stringify(parsed.values.host)} is no host name: ${hostInvalid}.`
    : undefined;
  if (problem !== undefined) {
    console.error(problem);
    return IMPORT_EXIT.unreadable;
  }
  const interruption = new AbortController();
  onFirstStopSignal((signal) => interruption.abort(signal));
  let exitCode: number = IMPORT_EXIT.imported;
  let points = 0;
  for (const file of files) {
    const outcome = await importFile(file, format, parsed.values.host ?? config.collector.host, config, interruption.signal);
    if (outcome.interrupted) return 128 + osConstants.signals[interruption.signal.reason as NodeJS.Signals];
    points += outcome.points;
    exitCode = Math.max(exitCode, outcome.exitCode);
    if (outcome.exitCode === IMPORT_EXIT.storeFailed) return exitCode;
  }
  if (files.length > 1) console.log(`Imported ${counted(points, 'point')} from ${counted(files.length, 'file')} into ${storePlace(config.store)}.`);
  return exitCode;
}

/** One file's import, its bad lines and summary printed; its exit code, the points it stored, and whether a signal cut it short. */
async function importFile(file: string, format: ImportFormat | undefined, defaultHost: string, config: Config, signal: AbortSignal): Promise<{ exitCode: number; points: number; interrupted: boolean }> {
  const [{ importPoints }, { openImportInput }, { openStore }] = await Promise.all([import('./importer/run.js'), import('./importer/input.js'), import('./storage/index.js')]);
  const started = Date.now();
  try {
    const input = await openImportInput(file, { format, defaultHost, storeFile: config.store.kind === 'sqlite' ? config.store.path : undefined });
    const { name, unit } = input;
    const summary = await importPoints(input, () => openStore(config.store), {
      onBad: (position, reason) => console.error(`${name}:${position}: ${reason}`),
      onProgress: (read, points) => process.stderr.write(`… ${points.toLocaleString('en')} points imported, ${unit} ${read.toLocaleString('en')}\n`),
      signal,
    });
    if (summary.unreadable !== undefined) console.error(`${name}:${summary.unreadable.after + 1}: cannot read further: ${summary.unreadable.reason}`);
    console.log(
      `Imported ${counted(summary.points, 'point')} for ${counted(summary.hosts, 'host')} from ${name} into ${storePlace(config.store)} ` +
        `in ${((Date.now() - started) / 1_000).toFixed(1)} s: ${counted(summary.read, unit)}, ${summary.bad} bad, ${summary.skipped} skipped` +
        (summary.beyondRetention > 0 ? `, ${summary.beyondRetention.toLocaleString('en')} dropped by the store as older than its retention policy` : '') +
        (summary.unreadable !== undefined ? `; the rest of ${name} could not be read` : '') +
        (summary.interrupted ? `; interrupted by ${String(signal.reason)}, the rest of ${name} not read (importing again is safe)` : '') +
        '.',
    );
    const partly = summary.bad > 0 || summary.beyondRetention > 0 || summary.unreadable !== undefined;
    return { exitCode: partly ? IMPORT_EXIT.partly : IMPORT_EXIT.imported, points: summary.points, interrupted: summary.interrupted };
  } catch (error) {
    if (error instanceof ImportFileError) {
      console.error(`${error.message}.`);
      return { exitCode: IMPORT_EXIT.unreadable, points: 0, interrupted: false };
    }
    if (!(error instanceof ImportStoreFailedError)) {
      console.error(`Import stopped: ${(error as Error).message}. Points imported so far stay; importing again is safe.`);
      return { exitCode: IMPORT_EXIT.storeFailed, points: 0, interrupted: false };
    }
    const { input, stored, storedThrough } = error;
    const kept = stored === 0 ? `No point of ${input.name} stored` : `${counted(stored, 'point')} of ${input.name} stored, through its ${input.unit} ${storedThrough.toLocaleString('en')}`;
    console.error(`Import stopped: ${error.message}. ${kept}; importing again is safe.`);
    return { exitCode: IMPORT_EXIT.storeFailed, points: stored, interrupted: false };
  }
}

/** Where the configured store keeps its points, for the import's summary: a wrong STORE shows there. */
function storePlace(store: StoreConfig): string {
  if (store.kind === 'sqlite') return `SQLite ${store.path}`;
  return store.kind === 'influxdb' ? `InfluxDB ${store.url} (database ${store.database})` : `InfluxDB ${store.url} (bucket ${store.bucket})`;
}

/** `count` and `noun`, plural but for one: "1 point", "5,000 points". */
function counted(count: number, noun: string): string {
  return `${count.toLocaleString('en')} ${noun}${count === 1 ? '' : 's'}`;
}

function waitForSignal(logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    onFirstStopSignal((signal) => {
      logger.info({ signal }, 'shutting down');
      resolve();
    });
  });
}

/**
 * What stops a command cleanly: its supervisor (SIGTERM), Ctrl-C (SIGINT), and the
 * terminal it runs in closing (SIGHUP), at which Node would otherwise end the
 * process on the spot: in-flight requests cut, a collector run's point lost, an
 * import without its summary.
 */
const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];

/**
 * Calls `onStop` at the first stop signal, and lets go of all of them then: a
 * second one, whichever, ends the process at once, as its default does.
 */
function onFirstStopSignal(onStop: (signal: NodeJS.Signals) => void): void {
  const listener = (signal: NodeJS.Signals): void => {
    for (const name of STOP_SIGNALS) process.off(name, listener);
    onStop(signal);
  };
  for (const name of STOP_SIGNALS) process.on(name, listener);
}

process.exitCode = await main(process.argv.slice(2));
