import { expect } from 'chai';
import type { RunReport } from '../../../collector/collect.js';
import type { JobMessage } from '../../../collector/job-messages.js';
import { RunLog } from '../../../collector/run-log.js';
import { emptyStats } from '../../../collector/stats.js';
import { capturingLogger } from '../../helpers/logger.js';

const partway: RunReport = { written: 1_000, beyondRetention: 0, replayed: 0, spooled: 0, dropped: 0, skippedLines: 0, storeError: 'store went away', spoolError: 'ENOTDIR' };
const failed = (report?: RunReport): JobMessage => ({
  type: 'failed',
  tickMs: 0,
  code: 'POINTS_UNSAVED',
  sampled: true,
  message: 'neither the store nor the spool took 1501 points',
  unsaved: [],
  ...(report === undefined ? {} : { report }),
});

describe('RunLog: what runs did, in the stats and the log', () => {
  it('counts the points a failed run stored before it failed, and logs the failure once per streak', () => {
    const { logger, lines } = capturingLogger();
    const stats = emptyStats();
    const runLog = new RunLog(logger, stats);
    runLog.record(failed(partway), 2_501);
    runLog.record(failed(), 1_502);
    expect(stats).to.deep.include({ failures: 2, runs: 0, pointsWritten: 1_000 });
    expect(stats.lastWriteSeconds).to.be.closeTo(Date.now() / 1_000, 5);
    expect(lines().map((line) => line.msg)).to.deep.equal(['collector run failed: neither the store nor the spool took 1501 points']);
  });

  it('says once per streak that the heartbeat file cannot be written, and when it can again', () => {
    const { logger, lines } = capturingLogger();
    const runLog = new RunLog(logger, emptyStats());
    const denied = Object.assign(new Error("EACCES: permission denied, mkdir '/data'"), { code: 'EACCES' });
    runLog.recordHeartbeat();
    for (let run = 0; run < 3; run++) runLog.recordHeartbeat(denied);
    runLog.recordHeartbeat();
    runLog.recordHeartbeat();
    runLog.recordHeartbeat(denied);
    expect(lines().map((line) => `${line.level} ${line.msg}`)).to.deep.equal([
      '40 cannot write the heartbeat file: the collector healthcheck fails until it can',
      '30 heartbeat file written again',
      '40 cannot write the heartbeat file: the collector healthcheck fails until it can',
    ]);
  });

  it('counts every run that ended abnormally, and logs it once per streak, then when runs end normally again', () => {
    const { logger, lines } = capturingLogger();
    const stats = emptyStats();
    const runLog = new RunLog(logger, stats);
    const healthy: JobMessage = { type: 'report', tickMs: 0, cancelled: false, report: { ...partway, written: 1, storeError: undefined, spoolError: undefined } };
    for (let run = 0; run < 3; run++) runLog.recordAbnormalEnd(new Error('boom at load'), 800);
    expect(stats.failures).to.equal(3);
    runLog.record(healthy, 1);
    runLog.recordAbnormalEnd(new Error('Worker for job "collect" exited with code 1'), 800);
    expect(stats).to.deep.include({ failures: 4, runs: 1 });
    expect(lines().map((line) => `${line.level} ${line.msg} ${(line.err as { message?: string } | undefined)?.message ?? ''}`.trim())).to.deep.equal([
      '50 collector run ended abnormally (timeout or crash); its point is spooled if it was sampled boom at load',
      '30 collector runs end normally again',
      '50 collector run ended abnormally (timeout or crash); its point is spooled if it was sampled Worker for job "collect" exited with code 1',
    ]);
  });
});
