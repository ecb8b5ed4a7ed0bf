import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LOG_BACKLOG_BYTES } from '../../log.js';

/** Lines of about 240 bytes, as the access log writes: over 90 MB in all. */
const LINES = 400_000;

describe('logs on stdout while nothing reads them (a real process, its stdout a pipe left unread)', () => {
  it(`keeps at most ${LOG_BACKLOG_BYTES / 1024 / 1024} MiB of lines waiting, drops and counts the rest, then writes what waited once read`, async () => {
    const distUrl = (name: string): string => JSON.stringify(pathToFileURL(join(process.cwd(), 'dist', name)).href);
    // One synchronous loop: no write completes meanwhile, as if the reader had stalled.
    const script = `
      const { createLogger } = await import(${distUrl('log.js')});
      const { createRegistry } = await import(${distUrl('metrics.js')});
      const registry = createRegistry();
      const logger = createLogger('info');
      gc();
      const before = process.memoryUsage().heapUsed;
      for (let i = 0; i < ${LINES}; i++) {
        logger.info({ requestId: 'a5b0c1d2-e3f4-4a5b-8c6d-7e8f9a0b1c2d', method: 'GET', url: '/memory-logs/?limit=10&skip=' + i, status: 200, durationMs: 0.42, remoteAddress: '127.0.0.1' }, 'request');
      }
      gc();
      const grewBytes = process.memoryUsage().heapUsed - before;
      const dropped = (await registry.getSingleMetric('memory_tracker_log_lines_dropped_total').get()).values[0].value;
      process.stderr.write(JSON.stringify({ grewBytes, dropped }) + '\\n');
    `;
    const child = spawn(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pause();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = once(child, 'exit');
    const reportLine = (): string | undefined => /^\{.*\}$/m.exec(stderr)?.[0];
    while (reportLine() === undefined && child.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(reportLine(), `its report; its stderr: ${stderr}`).to.be.a('string');
    const { grewBytes, dropped } = JSON.parse(reportLine()!) as { grewBytes: number; dropped: number };

    let written = '';
    child.stdout.on('data', (chunk: Buffer) => (written += chunk.toString()));
    child.stdout.resume();
    const [code] = (await exited) as [number | null];
    if (!child.stdout.readableEnded) await once(child.stdout, 'end');

    expect(code, stderr).to.equal(0);
    // Unbounded, the lines waiting alone would be over 90 MB.
    expect(grewBytes, 'heap the waiting lines took').to.be.below(LOG_BACKLOG_BYTES * 2);
    const lines = written.split('\n').filter((line) => line !== '');
    expect(lines.length, 'lines written once read').to.be.above(LOG_BACKLOG_BYTES / 300).and.below(LINES);
    expect(lines.length + dropped, 'lines written and lines counted as dropped').to.equal(LINES);
    expect(JSON.parse(lines[0]!)).to.include({ msg: 'request', url: '/memory-logs/?limit=10&skip=0' });
  });
});
