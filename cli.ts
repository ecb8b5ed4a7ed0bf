#!/usr/bin/env node
import { loadConfig, type Config } from './config.js';
import { ConfigError } from './errors.js';
import { createLogger, type Logger } from './log.js';

const USAGE = `Usage: memory-tracker <command>

Commands:
  all       run the API and the collector together (npm start)
  serve     run the API alone (npm run api)
  collect   run the collector alone (npm run collector)
  healthcheck [api|collector]
            exit 0 when the local API answers /healthz, or when the collector
            finished a run recently (the Docker HEALTHCHECK)

Configuration comes from environment variables: see the README.`;

/** Entry point: config -> store -> API and/or collector -> graceful stop on a signal. */
async function main(argv: readonly string[]): Promise<number> {
  const command = argv[0];
  if (command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return 0;
  }
  if (command !== 'all' && command !== 'serve' && command !== 'collect' && command !== 'healthcheck') {
    console.error(command === undefined ? USAGE : `Unknown command "${command}".\n\n${USAGE}`);
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
  if (command === 'healthcheck') {
    const target = argv[1] ?? 'api';
    if (target !== 'api' && target !== 'collector') {
      console.error(`Unknown healthcheck target "${target}": api or collector.`);
      return 2;
    }
    const { checkHealth } = await import('./healthcheck.js');
    const { healthy, reason } = await checkHealth(target, config);
    console.log(`${healthy ? 'healthy' : 'unhealthy'}: ${reason}`);
    return healthy ? 0 : 1;
  }
  const logger = createLogger(config.logLevel);
  const stops: Array<() => Promise<void>> = [];
  try {
    // Imported on demand: the collector alone on every node should not carry the
    // API's modules (Koa, ajv, the SQLite driver) in its memory.
    if (command === 'serve' || command === 'all') {
      const [{ startApi }, { openStore }] = await Promise.all([import('./api/server.js'), import('./storage/index.js')]);
      const store = await openStore(config.store);
      const api = await startApi(config, store, logger);
      stops.push(async () => {
        await api.close();
        await store.close();
      });
    }
    if (command === 'collect' || command === 'all') {
      const { startCollector } = await import('./collector/scheduler.js');
      const collector = await startCollector(config.collector, config.store, logger);
      stops.push(() => collector.stop());
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

function waitForSignal(logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      logger.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  });
}

process.exitCode = await main(process.argv.slice(2));
