import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../log.js';

/** A real logger whose JSON lines are kept for assertions instead of printed. */
export function capturingLogger(): { logger: Logger; lines: () => Array<Record<string, unknown>> } {
  const text: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text.push(chunk.toString('utf8'));
      done();
    },
  });
  return {
    logger: createLogger('debug', sink),
    lines: () => text.join('').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}
