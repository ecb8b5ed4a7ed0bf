import { createRequire } from 'node:module';
import { pino, stdSerializers, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config.js';

export type { Logger };

/**
 * The most log output that waits in memory for whatever reads stdout (a container
 * runtime, journald) while it is not reading: past it, new lines are dropped. Without
 * a bound, a stalled reader let the API grow for as long as it stalled: from 74 to
 * 138 MiB in 16 s under load at LOG_LEVEL=info (75 to 330 through process.stdout).
 */
export const LOG_BACKLOG_BYTES = 8 * 1024 * 1024;

let droppedLines = 0;

/** Lines dropped since the process started because stdout's reader was LOG_BACKLOG_BYTES behind. */
export function droppedLogLines(): number {
  return droppedLines;
}

/**
 * JSON lines on stdout, the object first and the message second (pino's order),
 * errors with their cause chain. In a terminal the same lines are pretty-printed.
 */
export function createLogger(level: LogLevel, destination?: NodeJS.WritableStream): Logger {
  const options = { level, base: { service: 'memory-tracker' }, serializers: { err: stdSerializers.errWithCause } };
  if (destination) return pino(options, destination as DestinationStream);
  if (process.stdout.isTTY) {
    // Loaded only for a terminal: services in containers never pay for it.
    const pretty = createRequire(import.meta.url)('pino-pretty') as (options: object) => DestinationStream;
    return pino(options, pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'service' }));
  }
  // pino's own writer on fd 1, asynchronous: a line goes out at once, and the lines
  // logged while a write is in flight go out together in the next, where
  // process.stdout makes a write of each. At LOG_LEVEL=info, an access line a
  // request, that cost the API about 12% less CPU a request under load, its logs
  // read from a pipe as a container runtime reads them (paired runs, by hand).
  // pino writes what is left synchronously when the process exits.
  const stdout = pino.destination({ dest: 1, sync: false, maxLength: LOG_BACKLOG_BYTES });
  stdout.on('drop', () => droppedLines++);
  return pino(options, stdout);
}
